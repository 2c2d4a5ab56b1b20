package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/web/admin"
)

func TestTakeoverMessageHandback(t *testing.T) {
	clock := &fixedClock{now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
	f := newFixture(t, nil, admin.Options{Now: clock.Now})
	seedShoppers(t, f)
	ctx := context.Background()

	status, body := f.do(t, http.MethodPost, "/api/admin/conversations/u_boots/takeover", `{"agent":"Lin"}`)
	if status != http.StatusOK {
		t.Fatalf("takeover: status %d, body %s", status, body)
	}
	p, err := f.store.Profile(ctx, "u_boots")
	if err != nil {
		t.Fatal(err)
	}
	if !p.HandedOver {
		t.Error("after takeover the profile is not handed over")
	}
	if !p.HandedOverAt.Equal(clock.Now()) {
		t.Errorf("handed_over_at = %v, want %v", p.HandedOverAt, clock.Now())
	}

	status, body = f.do(t, http.MethodPost, "/api/admin/conversations/u_boots/messages",
		`{"agent":"Lin","text":"Hi, I'm Lin. Let me check <that> order."}`)
	if status != http.StatusOK {
		t.Fatalf("message: status %d, body %s", status, body)
	}
	msgs, err := f.store.History(ctx, "u_boots", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := msgs[len(msgs)-1]
	if last.Role != memory.RoleAgent || last.Text != "Hi, I'm Lin. Let me check <that> order." {
		t.Errorf("last stored message = %+v, want the agent's", last)
	}

	status, body = f.do(t, http.MethodPost, "/api/admin/conversations/u_boots/handback", "")
	if status != http.StatusOK {
		t.Fatalf("handback: status %d, body %s", status, body)
	}
	if p, _ = f.store.Profile(ctx, "u_boots"); p.HandedOver || !p.HandedOverAt.IsZero() {
		t.Errorf("after handback: handed_over %v at %v, want false and zero", p.HandedOver, p.HandedOverAt)
	}

	frames := f.live.sent("u_boots")
	if len(frames) != 3 {
		t.Fatalf("frames sent = %v, want 3", frames)
	}
	var agentMsg struct {
		Type, Text, Agent string
		Seq               uint64
		Time              time.Time
	}
	if err := json.Unmarshal([]byte(frames[1]), &agentMsg); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"type":"handover","state":"agent","agent":"Lin"}`, "", `{"type":"handover","state":"bot"}`}
	if frames[0] != want[0] || frames[2] != want[2] {
		t.Errorf("handover frames = %s and %s, want %s and %s", frames[0], frames[2], want[0], want[2])
	}
	if agentMsg.Type != "agent.message" || agentMsg.Agent != "Lin" || agentMsg.Seq != last.Seq || agentMsg.Time.IsZero() {
		t.Errorf("agent.message frame = %s", frames[1])
	}
}

func TestAgentMessageTakesOverFirst(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	status, body := f.do(t, http.MethodPost, "/api/admin/conversations/u_tea/messages", `{"agent":"Mei","text":"您好"}`)
	if status != http.StatusOK {
		t.Fatalf("status %d, body %s", status, body)
	}
	p, err := f.store.Profile(context.Background(), "u_tea")
	if err != nil {
		t.Fatal(err)
	}
	if !p.HandedOver {
		t.Error("a staff message did not take the conversation over")
	}
	frames := f.live.sent("u_tea")
	if len(frames) != 2 || !strings.Contains(frames[0], `"state":"agent"`) {
		t.Errorf("frames = %v, want a handover frame before the agent message", frames)
	}
}

func TestConversationActionsRejectBadInput(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	tests := []struct {
		name, path, body string
		want             int
	}{
		{"takeover_without_agent", "/api/admin/conversations/u_tea/takeover", `{}`, http.StatusBadRequest},
		{"takeover_bad_json", "/api/admin/conversations/u_tea/takeover", `{"agent":`, http.StatusBadRequest},
		{"takeover_unknown_user", "/api/admin/conversations/nobody/takeover", `{"agent":"Lin"}`, http.StatusNotFound},
		{"message_empty_text", "/api/admin/conversations/u_tea/messages", `{"agent":"Lin","text":"  "}`, http.StatusBadRequest},
		{"message_too_long", "/api/admin/conversations/u_tea/messages",
			`{"agent":"Lin","text":"` + strings.Repeat("a", 4001) + `"}`, http.StatusBadRequest},
		{"handback_unknown_user", "/api/admin/conversations/nobody/handback", "", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.do(t, http.MethodPost, tc.path, tc.body)
			if status != tc.want {
				t.Errorf("status = %d, want %d; body %s", status, tc.want, body)
			}
		})
	}
	if n := len(f.live.sent("u_tea")); n != 0 {
		t.Errorf("rejected requests sent %d frames", n)
	}
}

func TestLiveListsConnectedAndHandedOver(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	f.live.active = []string{"u_tea"}
	var got struct {
		Conversations []struct {
			UserID     string `json:"user_id"`
			Connected  bool   `json:"connected"`
			HandedOver bool   `json:"handed_over"`
		} `json:"conversations"`
	}
	f.getJSON(t, "/api/admin/live", &got)
	if len(got.Conversations) != 2 {
		t.Fatalf("live = %+v, want u_angry and u_tea", got.Conversations)
	}
	if c := got.Conversations[0]; c.UserID != "u_angry" || !c.HandedOver || c.Connected {
		t.Errorf("first row = %+v, want u_angry handed over and not connected", c)
	}
	if c := got.Conversations[1]; c.UserID != "u_tea" || c.HandedOver || !c.Connected {
		t.Errorf("second row = %+v, want u_tea connected to the bot", c)
	}
}

// readEvent reads lines up to the next blank line and returns the data line.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var data string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		if line == "" && data != "" {
			return data
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			data = d
		}
	}
}

func TestEventsStreamMessages(t *testing.T) {
	f := newFixture(t, nil, admin.Options{Mask: memory.MaskPII})
	seedShoppers(t, f)
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/api/admin/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	// The first comment arrives once the subscription exists, so events
	// published after it reach this stream.
	if line, _ := r.ReadString('\n'); line != ": connected\n" {
		t.Fatalf("first line = %q", line)
	}

	f.h.Publish("u_tea", memory.RoleUser, "call me at 13800138000", 3)
	var ev struct {
		Type   string `json:"type"`
		UserID string `json:"user_id"`
		Role   string `json:"role"`
		Text   string `json:"text"`
		Seq    uint64 `json:"seq"`
	}
	if err := json.Unmarshal([]byte(readEvent(t, r)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "message" || ev.UserID != "u_tea" || ev.Role != memory.RoleUser || ev.Seq != 3 {
		t.Errorf("event = %+v, want the user message 3 of u_tea", ev)
	}
	if strings.Contains(ev.Text, "13800138000") {
		t.Errorf("event text %q shows the phone number; Mask was not applied", ev.Text)
	}

	status, body := f.do(t, http.MethodPost, "/api/admin/conversations/u_tea/takeover", `{"agent":"Lin"}`)
	if status != http.StatusOK {
		t.Fatalf("takeover: %d %s", status, body)
	}
	if data := readEvent(t, r); !strings.Contains(data, `"type":"handover"`) || !strings.Contains(data, `"state":"agent"`) {
		t.Errorf("takeover event = %s", data)
	}

	// Close ends the stream, so ReadAll returns instead of blocking.
	f.h.Close()
	if _, err := io.ReadAll(r); err != nil {
		t.Errorf("read to the end of the stream after Close: %v", err)
	}
}
