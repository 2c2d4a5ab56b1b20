package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/memory"
)

func TestTurnStoresMessageAndReply(t *testing.T) {
	p := &scriptedProvider{chunks: []string{"The Trail Waterproof Boot ", "is $129."}}
	te := newTestEngine(t, p, nil)
	ctx := context.Background()
	s := Session{UserID: "v:alice", Locale: "en-US", Timezone: "Europe/London"}
	if _, err := te.Hello(ctx, s, 0); err != nil {
		t.Fatalf("Hello: %v", err)
	}

	sink := &recordingSink{}
	r, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "waterproof boots under $150"}, sink)
	if err != nil {
		t.Fatalf("Turn: %v", err)
	}
	if r.Text != "The Trail Waterproof Boot is $129." || sink.shown() != r.Text {
		t.Errorf("reply %q, streamed %q; want the provider's text twice", r.Text, sink.shown())
	}
	if sink.starts != 1 || sink.turnID != r.TurnID || sink.userSeq != 1 {
		t.Errorf("sink start = %d calls, turn %q seq %d; want 1, %q, 1", sink.starts, sink.turnID, sink.userSeq, r.TurnID)
	}
	if r.UserSeq != 1 || r.Seq != 2 || r.InReplyTo != "m-1" {
		t.Errorf("reply numbering = user %d reply %d in_reply_to %q, want 1, 2, m-1", r.UserSeq, r.Seq, r.InReplyTo)
	}
	if r.Stats.Outcome != "answered" || r.Stats.Provider != "scripted" {
		t.Errorf("stats = %+v, want answered by scripted", r.Stats)
	}
	if len(r.Products) == 0 || r.Products[0].ID != "rain-boot" && r.Products[0].ID != "trail-boot" {
		t.Errorf("products = %+v, want boots first", r.Products)
	}
	for _, pc := range r.Products {
		if pc.Price > 150 {
			t.Errorf("product %s at %v breaks the $150 bound", pc.ID, pc.Price)
		}
	}

	msgs := te.history(t, s.UserID)
	if len(msgs) != 2 || msgs[0].ClientID != "m-1" || msgs[1].Turn == nil {
		t.Fatalf("stored = %+v, want the message and a reply with a turn record", msgs)
	}
	rec := msgs[1].Turn
	if rec.TurnID != r.TurnID || rec.InReplyTo != 1 || rec.Fallback || rec.Provider != "scripted" {
		t.Errorf("turn record = %+v", rec)
	}
	if len(rec.Products) != len(r.Products) {
		t.Errorf("turn record has %d products, reply %d", len(rec.Products), len(r.Products))
	}
	prof, err := te.store.Profile(ctx, s.UserID)
	if err != nil {
		t.Fatalf("load profile: %v", err)
	}
	if prof.Turns != 1 || prof.Budget != 150 {
		t.Errorf("profile turns %d budget %v, want 1 and 150", prof.Turns, prof.Budget)
	}
}

func TestTurnPromptCarriesContext(t *testing.T) {
	p := &scriptedProvider{chunks: []string{"ok"}}
	te := newTestEngine(t, p, func(o *Options) { o.HistoryMessages = 2 })
	ctx := context.Background()
	s := Session{UserID: "v:bob", Locale: "en-US"}
	for i, text := range []string{"a wool scarf", "waterproof boots", "rain boots please"} {
		if _, err := te.Turn(ctx, s, Incoming{ClientID: string(rune('a' + i)), Text: text}, &recordingSink{}); err != nil {
			t.Fatalf("Turn %d: %v", i, err)
		}
	}
	reqs := p.recorded()
	if len(reqs) != 3 {
		t.Fatalf("provider got %d requests, want 3", len(reqs))
	}
	last := reqs[2]
	// System prompt, two history messages (the window), then the message.
	if len(last.Messages) != 4 {
		t.Fatalf("third request has %d messages, want 4: %+v", len(last.Messages), last.Messages)
	}
	if last.Messages[1].Content != "waterproof boots" || last.Messages[2].Role != llm.RoleAssistant {
		t.Errorf("history in prompt = %+v, want the previous user message and reply", last.Messages[1:3])
	}
	sys := last.Messages[0].Content
	for _, want := range []string{"Test Store", "City Rain Boot", "$79", "(was $99)"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
}

func TestTurnRejectsEmptyText(t *testing.T) {
	te := newTestEngine(t, nil, nil)
	_, err := te.Turn(context.Background(), Session{UserID: "v:e"}, Incoming{ClientID: "m", Text: " \n "}, &recordingSink{})
	if !errors.Is(err, ErrEmptyMessage) {
		t.Fatalf("Turn with blank text = %v, want ErrEmptyMessage", err)
	}
	if n := len(te.history(t, "v:e")); n != 0 {
		t.Errorf("blank message stored %d messages", n)
	}
}

func TestTurnDuplicateClientID(t *testing.T) {
	p := &scriptedProvider{chunks: []string{"first answer"}}
	te := newTestEngine(t, p, nil)
	ctx := context.Background()
	s := Session{UserID: "v:d", Locale: "en-US"}
	first, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "waterproof boots"}, &recordingSink{})
	if err != nil {
		t.Fatalf("first Turn: %v", err)
	}
	sink := &recordingSink{}
	dup, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "waterproof boots"}, sink)
	if err != nil {
		t.Fatalf("duplicate Turn: %v", err)
	}
	if !dup.Duplicate || dup.Seq != first.Seq || dup.TurnID != first.TurnID || dup.Text != first.Text {
		t.Errorf("duplicate = %+v, want the first reply marked duplicate", dup)
	}
	if dup.Stats.Outcome != "duplicate" {
		t.Errorf("duplicate outcome = %q", dup.Stats.Outcome)
	}
	if sink.starts != 0 || len(sink.deltas) != 0 {
		t.Errorf("duplicate streamed %d starts and %d deltas, want none", sink.starts, len(sink.deltas))
	}
	if n := len(p.recorded()); n != 1 {
		t.Errorf("provider called %d times, want 1", n)
	}
	if n := len(te.history(t, s.UserID)); n != 2 {
		t.Errorf("stored %d messages, want 2", n)
	}
}

func TestTurnFallbackAfterPartialReply(t *testing.T) {
	tests := []struct {
		name      string
		provider  *scriptedProvider
		timeout   time.Duration
		reason    string
		wantReset bool
	}{
		{name: "cut_after_delta", provider: &scriptedProvider{chunks: []string{"Half a "}, err: llm.ErrStreamCut},
			reason: "stream_cut", wantReset: true},
		{name: "unavailable_before_delta", provider: &scriptedProvider{err: llm.ErrUnavailable}, reason: "unavailable"},
		{name: "empty_reply", provider: &scriptedProvider{chunks: []string{"  "}}, reason: "empty", wantReset: true},
		{name: "deadline", provider: &scriptedProvider{chunks: []string{"slow "}, block: true},
			timeout: 1200 * time.Millisecond, reason: "timeout", wantReset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEngine(t, tt.provider, func(o *Options) {
				if tt.timeout > 0 {
					o.TurnTimeout = tt.timeout
				}
			})
			sink := &recordingSink{}
			s := Session{UserID: "v:f", Locale: "en-US"}
			r, err := te.Turn(context.Background(), s, Incoming{ClientID: "m-1", Text: "waterproof boots"}, sink)
			if err != nil {
				t.Fatalf("Turn: %v", err)
			}
			if r.Stats.Outcome != "fallback" || r.Stats.FallbackReason != tt.reason || r.Stats.Provider != llm.ProviderOffline {
				t.Errorf("stats = %+v, want fallback %q by offline", r.Stats, tt.reason)
			}
			gotReset := false
			for _, reset := range sink.resets {
				gotReset = gotReset || reset
			}
			if gotReset != tt.wantReset {
				t.Errorf("reset sent = %v, want %v (deltas %q)", gotReset, tt.wantReset, sink.deltas)
			}
			if sink.shown() != r.Text {
				t.Errorf("client shows %q, reply is %q", sink.shown(), r.Text)
			}
			rec := te.history(t, s.UserID)[1].Turn
			if !rec.Fallback || rec.FallbackReason != tt.reason {
				t.Errorf("record fallback = %v %q, want true %q", rec.Fallback, rec.FallbackReason, tt.reason)
			}
		})
	}
}

// TestTurnStoresReplyWhenClientLeaves cancels the turn's context, as a
// closed connection does: the reply is still stored.
func TestTurnStoresReplyWhenClientLeaves(t *testing.T) {
	p := &scriptedProvider{chunks: []string{"partial "}, block: true}
	te := newTestEngine(t, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	sink := &cancelSink{cancel: cancel}
	s := Session{UserID: "v:gone", Locale: "en-US"}
	r, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "a wool scarf"}, sink)
	if err != nil {
		t.Fatalf("Turn after the client left: %v", err)
	}
	if r.Seq == 0 || r.Stats.FallbackReason != "canceled" {
		t.Errorf("reply seq %d reason %q, want a stored offline reply for a canceled call", r.Seq, r.Stats.FallbackReason)
	}
	if n := len(te.history(t, s.UserID)); n != 2 {
		t.Errorf("stored %d messages, want 2", n)
	}
}

// cancelSink cancels the turn's context at the first delta.
type cancelSink struct {
	recordingSink
	cancel context.CancelFunc
}

func (s *cancelSink) Delta(text string, reset bool) {
	s.recordingSink.Delta(text, reset)
	s.cancel()
}

func TestTurnHandedOver(t *testing.T) {
	p := &scriptedProvider{chunks: []string{"bot reply"}}
	te := newTestEngine(t, p, nil)
	ctx := context.Background()
	s := Session{UserID: "v:h"}
	if _, err := te.Hello(ctx, s, 0); err != nil {
		t.Fatalf("Hello: %v", err)
	}
	if err := te.store.SetHandedOver(ctx, s.UserID, true); err != nil {
		t.Fatalf("hand over: %v", err)
	}
	sink := &recordingSink{}
	r, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "where is my order?"}, sink)
	if err != nil {
		t.Fatalf("Turn: %v", err)
	}
	if !r.HandedOver || r.Seq != 0 || r.UserSeq != 1 {
		t.Errorf("reply = handed over %v seq %d user seq %d, want true, 0, 1", r.HandedOver, r.Seq, r.UserSeq)
	}
	if sink.starts != 0 || len(p.recorded()) != 0 {
		t.Errorf("bot answered a handed-over conversation: %d starts, %d model calls", sink.starts, len(p.recorded()))
	}
	msgs := te.history(t, s.UserID)
	if len(msgs) != 1 || msgs[0].Role != memory.RoleUser {
		t.Errorf("stored %+v, want only the shopper's message", msgs)
	}
}

func TestTurnMasksPersonalDataForModel(t *testing.T) {
	p := &scriptedProvider{chunks: []string{"Noted."}}
	te := newTestEngine(t, p, func(o *Options) { o.Mask = memory.MaskPII })
	ctx := context.Background()
	s := Session{UserID: "v:mask", Locale: "en-US"}
	texts := []string{"my email is jane.doe@example.com, any wool scarf?", "call me on +1 415 555 0132 about boots"}
	for i, text := range texts {
		if _, err := te.Turn(ctx, s, Incoming{ClientID: string(rune('a' + i)), Text: text}, &recordingSink{}); err != nil {
			t.Fatalf("Turn %d: %v", i, err)
		}
	}
	reqs := p.recorded()
	if len(reqs) != 2 {
		t.Fatalf("provider got %d requests, want 2", len(reqs))
	}
	for _, m := range reqs[1].Messages {
		if strings.Contains(m.Content, "jane.doe@example.com") {
			t.Errorf("%s message sent to the model contains the email: %q", m.Role, m.Content)
		}
		if strings.Contains(m.Content, "555 0132") {
			t.Errorf("%s message sent to the model contains the phone number: %q", m.Role, m.Content)
		}
	}
	// The store keeps what the shopper wrote; masking is for the model.
	if got := te.history(t, s.UserID)[0].Text; got != texts[0] {
		t.Errorf("stored text = %q, want it unmasked", got)
	}
}
