package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory/memtest"
	"github.com/concierge-chat/concierge/web/admin"
)

func TestAdminTokenGeneratedOnce(t *testing.T) {
	store := memtest.Open(t)
	ctx := context.Background()

	hash, notice, err := adminToken(ctx, configs.Admin{}, store)
	if err != nil {
		t.Fatal(err)
	}
	_, token, ok := strings.Cut(notice, "keep it safe): ")
	if !ok || len(token) < 20 {
		t.Fatalf("first start notice %q does not show a token", notice)
	}
	if hash != admin.HashToken(token) {
		t.Error("the returned hash is not the hash of the printed token")
	}
	stored, err := store.GetState(ctx, adminTokenKey)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored) != string(hash[:]) {
		t.Error("the store does not keep the token hash")
	}
	if strings.Contains(string(stored), token) {
		t.Error("the store keeps the token itself")
	}

	again, notice2, err := adminToken(ctx, configs.Admin{}, store)
	if err != nil {
		t.Fatal(err)
	}
	if again != hash {
		t.Error("a second start made a new token")
	}
	if strings.Contains(notice2, token) || !strings.Contains(notice2, "exists") {
		t.Errorf("second start notice = %q, want one saying a token exists, without it", notice2)
	}

	set, _, err := adminToken(ctx, configs.Admin{Token: "configured"}, store)
	if err != nil {
		t.Fatal(err)
	}
	if set != admin.HashToken("configured") {
		t.Error("admin.token was not used")
	}
}

// fakePurger records the cutoffs it is called with and reports each call.
type fakePurger struct {
	calls chan time.Time
	err   error
}

func (p *fakePurger) PurgeBefore(ctx context.Context, cutoff time.Time) (int, error) {
	p.calls <- cutoff
	return 3, p.err
}

func TestRetentionJobPurgesOnStartAndEachTick(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	p := &fakePurger{calls: make(chan time.Time, 4), err: errors.New("disk full")}
	job := retentionJob{store: p, days: 30, now: func() time.Time { return now },
		log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job.run(ctx, tick)
	}()

	want := now.Add(-30 * 24 * time.Hour)
	if got := <-p.calls; !got.Equal(want) {
		t.Errorf("first cutoff = %v, want %v", got, want)
	}
	// A failed purge does not stop the job: the next tick runs again.
	now = now.Add(time.Hour) // the job reads now only after the tick below
	tick <- now
	if got := <-p.calls; !got.Equal(want.Add(time.Hour)) {
		t.Errorf("second cutoff = %v, want %v", got, want.Add(time.Hour))
	}
	cancel()
	<-done
	select {
	case c := <-p.calls:
		t.Errorf("purge ran after cancel with cutoff %v", c)
	default:
	}
}

func TestStartRetentionDisabledWithoutDays(t *testing.T) {
	p := &fakePurger{calls: make(chan time.Time, 1)}
	stop := startRetention(configs.Memory{RetentionDays: 0}, p, slog.New(slog.DiscardHandler))
	stop()
	if len(p.calls) != 0 {
		t.Error("retention ran with retention_days 0")
	}
}

// testAdminToken is the staff token of testApp.
const testAdminToken = "test-token-0123456789"

// testApp starts the whole server on a temporary data directory, without
// loading a catalog, and returns its URL.
func testApp(t *testing.T, log *slog.Logger) (*app, string) {
	t.Helper()
	env := []string{"CONCIERGE_SERVER_DATA_DIR=" + t.TempDir(), "CONCIERGE_ADMIN_TOKEN=" + testAdminToken}
	cfg, _, err := configs.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a, err := openApp(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.web.Handler())
	srv.Config.RegisterOnShutdown(a.admin.Close)
	t.Cleanup(func() {
		a.admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.web.Shutdown(ctx)
		srv.Close()
		if err := a.Close(); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	return a, srv.URL
}

func adminPost(t *testing.T, base, path, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d, body %s", path, resp.StatusCode, data)
	}
}

// shopper is a WebSocket client of the test server.
type shopper struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialShopper(t *testing.T, base string) (*shopper, string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	s := &shopper{t: t, ws: ws}
	s.send(`{"type":"hello","protocol":1,"locale":"en"}`)
	ready := s.next("ready")
	return s, ready["user_id"].(string)
}

func (s *shopper) send(frame string) {
	s.t.Helper()
	if err := s.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		s.t.Fatal(err)
	}
}

// next reads frames until one of type want arrives and returns it. Frames
// of the types in skip are passed over. Any other frame fails the test.
func (s *shopper) next(want string, skip ...string) map[string]any {
	s.t.Helper()
	_ = s.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", want, err)
		}
		var f map[string]any
		if err := json.Unmarshal(data, &f); err != nil {
			s.t.Fatal(err)
		}
		switch typ, _ := f["type"].(string); {
		case typ == want:
			return f
		case containsString(skip, typ):
		default:
			s.t.Fatalf("got frame %s while waiting for %s", data, want)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// staffEvents opens the console's event stream.
func staffEvents(t *testing.T, base string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/admin/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || line != ": connected\n" {
		t.Fatalf("event stream starts with %q, %v", line, err)
	}
	return r
}

// nextStaffEvent returns the data of the next message or handover event.
func nextStaffEvent(t *testing.T, r *bufio.Reader) map[string]any {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v", err)
		}
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			var ev map[string]any
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			return ev
		}
	}
}

func TestStaffTakeoverSilencesBot(t *testing.T) {
	_, base := testApp(t, nil)
	events := staffEvents(t, base)
	shop, userID := dialShopper(t, base)

	shop.send(`{"type":"message","id":"m1","text":"hello, do you sell tea?"}`)
	shop.next("reply.end", "message.ack", "reply.start", "reply.delta")
	if ev := nextStaffEvent(t, events); ev["role"] != "user" || ev["user_id"] != userID {
		t.Errorf("first live event = %v, want the shopper's message", ev)
	}
	if ev := nextStaffEvent(t, events); ev["role"] != "assistant" {
		t.Errorf("second live event = %v, want the bot's reply", ev)
	}

	adminPost(t, base, "/api/admin/conversations/"+userID+"/takeover", `{"agent":"Lin"}`)
	if f := shop.next("handover"); f["state"] != "agent" || f["agent"] != "Lin" {
		t.Errorf("handover frame = %v", f)
	}
	nextStaffEvent(t, events) // the takeover

	shop.send(`{"type":"message","id":"m2","text":"is anyone there?"}`)
	// The live event comes after the turn has finished, so any bot reply
	// would already be queued on the socket before the staff message.
	if ev := nextStaffEvent(t, events); ev["role"] != "user" || ev["seq"] != float64(3) {
		t.Errorf("live event = %v, want the shopper's message 3", ev)
	}
	adminPost(t, base, "/api/admin/conversations/"+userID+"/messages", `{"agent":"Lin","text":"Hi, Lin here."}`)
	msg := shop.next("agent.message", "message.ack")
	if msg["text"] != "Hi, Lin here." || msg["agent"] != "Lin" || msg["seq"] != float64(4) {
		t.Errorf("agent.message = %v", msg)
	}
	if ev := nextStaffEvent(t, events); ev["role"] != "agent" {
		t.Errorf("live event = %v, want the staff message", ev)
	}

	adminPost(t, base, "/api/admin/conversations/"+userID+"/handback", "")
	if f := shop.next("handover"); f["state"] != "bot" {
		t.Errorf("handover frame = %v, want state bot", f)
	}
	shop.send(`{"type":"message","id":"m3","text":"thanks, one more question"}`)
	end := shop.next("reply.end", "message.ack", "reply.start", "reply.delta")
	if end["seq"] != float64(6) {
		t.Errorf("reply after handback has seq %v, want 6", end["seq"])
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServerLogsNoMessageText(t *testing.T) {
	var logs syncBuffer
	_, base := testApp(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	events := staffEvents(t, base)
	shop, userID := dialShopper(t, base)

	marker := "zq7marker 13800138000"
	shop.send(`{"type":"message","id":"m1","text":"` + marker + `"}`)
	shop.next("reply.end", "message.ack", "reply.start", "reply.delta")
	adminPost(t, base, "/api/admin/conversations/"+userID+"/messages", `{"agent":"Lin","text":"staff zq7marker"}`)
	shop.next("agent.message", "handover")
	nextStaffEvent(t, events)

	if !strings.Contains(logs.String(), userID) {
		t.Fatal("the log does not mention the user; the check below would prove nothing")
	}
	if strings.Contains(logs.String(), "zq7marker") || strings.Contains(logs.String(), "13800138000") {
		t.Errorf("the log contains message text:\n%s", logs.String())
	}
}

func TestConfigChecksAdminSettings(t *testing.T) {
	tests := []struct {
		name, env, key string
	}{
		{"short_token", "CONCIERGE_ADMIN_TOKEN=short", "admin.token"},
		{"zero_handover_timeout", "CONCIERGE_ADMIN_HANDOVER_TIMEOUT=0s", "admin.handover_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := configs.Load("", []string{tc.env})
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Load with %s: err = %v, want one naming %s", tc.env, err, tc.key)
			}
		})
	}
	cfg, _, err := configs.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.HandoverTimeout != 10*time.Minute {
		t.Errorf("default admin.handover_timeout = %v, want 10m", cfg.Admin.HandoverTimeout)
	}
}
