package web_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/concierge-chat/concierge/web"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

// TestShutdownFinishesRunningTurn starts a shutdown while a reply streams:
// the reply completes, then the connection closes with 1001 and new
// upgrades are refused.
func TestShutdownFinishesRunningTurn(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"one ", "two ", "three"}, Delay: 50 * time.Millisecond})
	e := newEnv(t, envOptions{fake: fake})
	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{})
	c.SendMessage(t, "m-1", "waterproof boots")
	var start protocol.ReplyStart
	c.ReadUntil(t, protocol.TypeReplyStart).Decode(t, &start)

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- e.srv.Shutdown(ctx)
	}()
	var end protocol.ReplyEnd
	c.ReadUntil(t, protocol.TypeReplyEnd).Decode(t, &end)
	if end.Text != "one two three" {
		t.Errorf("reply during shutdown = %q, want the whole scripted text", end.Text)
	}
	if code := c.ReadClose(t); code != websocket.CloseGoingAway {
		t.Errorf("close code = %d, want %d", code, websocket.CloseGoingAway)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if n := e.srv.Connections(); n != 0 {
		t.Errorf("%d connections open after Shutdown", n)
	}
	_, resp, err := wstest.DialHeader(t, e.URL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("upgrade after Shutdown: response %v, error %v; want 503", resp, err)
	}
	status, _, _ := get(t, e.URL+"/readyz")
	if status != http.StatusServiceUnavailable {
		t.Errorf("/readyz after Shutdown = %d, want 503", status)
	}
}

func TestQueueFull(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"slow reply"}, FirstTokenDelay: 200 * time.Millisecond})
	e := newEnv(t, envOptions{fake: fake, web: web.Config{MaxPendingMessages: 1}})
	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{})

	c.SendMessage(t, "m-1", "waterproof boots")
	c.ReadUntil(t, protocol.TypeReplyStart)
	// m-1 is running, so m-2 fills the queue of one and m-3 is rejected.
	c.SendMessage(t, "m-2", "a wool scarf")
	c.SendMessage(t, "m-3", "a tea set")
	ef := c.ReadError(t, protocol.CodeQueueFull)
	if ef.InReplyTo != "m-3" || !ef.Retryable {
		t.Errorf("queue_full = in_reply_to %q retryable %v, want m-3 and true", ef.InReplyTo, ef.Retryable)
	}
	var end protocol.ReplyEnd
	c.ReadUntil(t, protocol.TypeReplyEnd).Decode(t, &end)
	if end.InReplyTo != "m-1" {
		t.Errorf("first reply.end answers %q, want m-1", end.InReplyTo)
	}
	r2 := c.ReadReply(t, "m-2")
	if r2.Start.UserSeq != 3 {
		t.Errorf("m-2 user_seq = %d, want 3 (m-3 was not stored)", r2.Start.UserSeq)
	}
}

// TestDisconnectMidReplyThenResend closes the client while the model
// streams. The turn still stores a reply, and resending the same id after
// reconnecting returns that reply once.
func TestDisconnectMidReplyThenResend(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"never ", "finished"}, Stall: true})
	e := newEnv(t, envOptions{fake: fake})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US"})
	c.SendMessage(t, "m-1", "waterproof boots under $150")
	c.ReadUntil(t, protocol.TypeReplyDelta)
	c.Close()

	c2 := wstest.Dial(t, e.URL)
	c2.Hello(t, protocol.Hello{VisitorID: ready.VisitorID})
	// The resend waits for the cancelled turn to store its reply.
	c2.SendMessage(t, "m-1", "waterproof boots under $150")
	var end protocol.ReplyEnd
	c2.ReadUntil(t, protocol.TypeReplyEnd).Decode(t, &end)
	if !end.Duplicate {
		t.Error("resent id after a disconnect got a new reply, want the stored one marked duplicate")
	}
	msgs := e.history(ready.UserID)
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages, want the message and one reply", len(msgs))
	}
	rec := msgs[1].Turn
	if rec == nil {
		t.Fatal("stored reply has no turn record")
	}
	if !rec.Fallback {
		t.Error("turn record fallback = false, want true for the cancelled model call")
	}
	if rec.FallbackReason != "canceled" {
		t.Errorf("turn record fallback reason = %q, want canceled", rec.FallbackReason)
	}
	if end.Seq != msgs[1].Seq || end.Text != msgs[1].Text {
		t.Errorf("duplicate reply = seq %d %q, want stored seq %d %q", end.Seq, end.Text, msgs[1].Seq, msgs[1].Text)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("fake LLM got %d requests, want 1", n)
	}
}

// TestShutdownDeadlineCancelsStalledTurn lets the shutdown deadline pass
// while the model stalls: the turn is cancelled, the offline reply is
// stored and sent, and the connection closes with 1001.
func TestShutdownDeadlineCancelsStalledTurn(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"stuck "}, Stall: true})
	e := newEnv(t, envOptions{fake: fake, turnTimeout: 30 * time.Second})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US"})
	c.SendMessage(t, "m-1", "waterproof boots")
	c.ReadUntil(t, protocol.TypeReplyDelta)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown past its deadline = %v, want context.DeadlineExceeded", err)
	}
	var end protocol.ReplyEnd
	c.ReadUntil(t, protocol.TypeReplyEnd).Decode(t, &end)
	if end.Text == "" || strings.Contains(end.Text, "stuck") {
		t.Errorf("reply after the deadline = %q, want the offline reply", end.Text)
	}
	if code := c.ReadClose(t); code != websocket.CloseGoingAway {
		t.Errorf("close code = %d, want %d", code, websocket.CloseGoingAway)
	}
	msgs := e.history(ready.UserID)
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages, want the message and one reply", len(msgs))
	}
	if rec := msgs[1].Turn; rec == nil || rec.FallbackReason != "canceled" {
		t.Errorf("turn record = %+v, want fallback reason canceled", rec)
	}
	// A second Shutdown has nothing left to wait for.
	if err := e.srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v, want nil", err)
	}
}

func TestSendToUserReachesEveryConnection(t *testing.T) {
	e := newEnv(t, envOptions{noCatalog: true})
	a := wstest.Dial(t, e.URL)
	ready := a.Hello(t, protocol.Hello{})
	b := wstest.Dial(t, e.URL)
	b.Hello(t, protocol.Hello{VisitorID: ready.VisitorID})
	other := wstest.Dial(t, e.URL)
	otherReady := other.Hello(t, protocol.Hello{})

	users := e.srv.ActiveUsers()
	if len(users) != 2 || !slices.Contains(users, ready.UserID) || !slices.Contains(users, otherReady.UserID) {
		t.Errorf("ActiveUsers = %v, want the two visitors", users)
	}
	msg := protocol.AgentMessage{Type: protocol.TypeAgentMessage, Seq: 3, Text: "Hi, I'm Lin.", Agent: "Lin",
		Time: time.Date(2026, 12, 4, 9, 14, 0, 0, time.UTC)}
	if n := e.srv.SendToUser(ready.UserID, msg); n != 2 {
		t.Errorf("SendToUser reached %d connections, want 2", n)
	}
	for _, c := range []*wstest.Client{a, b} {
		var got protocol.AgentMessage
		f := c.NextFrame(t)
		f.Decode(t, &got)
		if f.Type != protocol.TypeAgentMessage || got != msg {
			t.Errorf("connection got %s %s, want the agent message", f.Type, f.Raw)
		}
	}
	// The other visitor got nothing: its next frame is the ack of its own event.
	checkAlive(t, other, "other visitor")
	if n := e.srv.SendToUser("v:nobody", msg); n != 0 {
		t.Errorf("SendToUser to an absent user reached %d connections", n)
	}
}

// TestStoreFailureSendsInternalError closes the store under a running
// server: messages and events get a retryable internal error and the
// connection stays open.
func TestStoreFailureSendsInternalError(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{})
	if err := e.store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}

	c.SendMessage(t, "m-1", "a wool scarf")
	ef := c.ReadError(t, protocol.CodeInternal)
	if !ef.Retryable {
		t.Error("internal error for a failed turn is not retryable")
	}
	if ef.InReplyTo != "m-1" {
		t.Errorf("in_reply_to = %q, want m-1", ef.InReplyTo)
	}
	if strings.Contains(ef.Message, "closed") || strings.Contains(ef.Message, "bolt") {
		t.Errorf("error message %q leaks the internal cause", ef.Message)
	}
	c.Send(t, pageView)
	c.ReadError(t, protocol.CodeInternal)

	other := wstest.Dial(t, e.URL)
	other.SendHello(t, protocol.Hello{})
	other.ReadError(t, protocol.CodeInternal)
}
