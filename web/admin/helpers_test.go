package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
	"github.com/concierge-chat/concierge/web/admin"
)

const testToken = "staff-token-for-tests"

// fakeLive records the frames sent to shoppers.
type fakeLive struct {
	mu     sync.Mutex
	frames map[string][]string // user id to JSON frames
	active []string
}

func (f *fakeLive) SendToUser(userID string, frame any) int {
	data, err := json.Marshal(frame)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frames == nil {
		f.frames = map[string][]string{}
	}
	f.frames[userID] = append(f.frames[userID], string(data))
	return 1
}

func (f *fakeLive) ActiveUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.active...)
}

func (f *fakeLive) sent(userID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.frames[userID]...)
}

// fixture is an admin handler over a real store behind an httptest server.
type fixture struct {
	store *memory.Store
	live  *fakeLive
	h     *admin.Handler
	srv   *httptest.Server
}

func newFixture(t *testing.T, store *memory.Store, opts admin.Options) *fixture {
	t.Helper()
	if store == nil {
		store = memtest.Open(t)
	}
	live := &fakeLive{}
	opts.Store = store
	opts.Live = live
	opts.TokenHash = admin.HashToken(testToken)
	h, err := admin.New(opts)
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return &fixture{store: store, live: live, h: h, srv: srv}
}

// do sends an authorized request and returns the status and body.
func (f *fixture) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return f.doToken(t, method, path, body, testToken)
}

func (f *fixture) doToken(t *testing.T, method, path, body, token string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, r)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// getJSON sends an authorized GET, expects 200 and decodes the body into v.
func (f *fixture) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	status, body := f.do(t, http.MethodGet, path, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: decode %s: %v", path, body, err)
	}
}

// turn describes a seeded shopper message and its bot reply.
type turn struct {
	user, text, reply       string
	label, intent, emotion  string
	offer, segment, variant string
}

// seed stores each turn as a user message and an assistant reply with a
// decision record.
func seed(t *testing.T, store *memory.Store, turns ...turn) {
	t.Helper()
	ctx := context.Background()
	for i, tr := range turns {
		msg, _, err := store.AppendUserMessage(ctx, tr.user, "", tr.text)
		if err != nil {
			t.Fatalf("append user message: %v", err)
		}
		rec := &memory.TurnRecord{TurnID: "t_" + tr.user + string(rune('a'+i)), InReplyTo: msg.Seq,
			ScenarioLabel: tr.label, Intent: tr.intent, Emotion: tr.emotion, OfferID: tr.offer,
			Segment: tr.segment, Variant: tr.variant, Provider: "offline",
			Products: []memory.Scored{{ID: "tea-set", Score: 0.82}},
			Details:  []byte(`{"scenario":{"label":"` + tr.label + `","reasons":["price bound 150 in the message"]},"offer_reason":"highest expected reward"}`)}
		if _, err := store.AppendReply(ctx, tr.user, memory.RoleAssistant, tr.reply, rec); err != nil {
			t.Fatalf("append reply: %v", err)
		}
	}
}

// fixedClock is a clock stopped at now.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
