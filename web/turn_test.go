package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

func TestOfflineReplyNamesProductsWithPrices(t *testing.T) {
	tests := []struct {
		name   string
		locale string
		text   string
		zh     bool
	}{
		{name: "english_boots", locale: "en-US", text: "waterproof boots under $150"},
		{name: "zh_locale_tea_set", locale: "zh-CN", text: "有适合送妈妈的茶具吗？", zh: true},
		{name: "chinese_text_en_locale", locale: "en-US", text: "我想买一套青瓷茶具送人", zh: true},
	}
	e := newEnv(t, envOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.Dial(t, e.URL)
			c.Hello(t, protocol.Hello{Locale: tt.locale, Timezone: "Asia/Shanghai"})
			r := c.Ask(t, "m-1", tt.text)

			if len(r.Deltas) < 2 {
				t.Errorf("offline reply came in %d deltas, want a stream of more than one", len(r.Deltas))
			}
			if r.Text != r.End.Text {
				t.Errorf("joined deltas %q differ from reply.end text %q", r.Text, r.End.Text)
			}
			if len(r.End.Products) == 0 {
				t.Fatalf("offline reply to %q has no product cards", tt.text)
			}
			top := r.End.Products[0]
			if !strings.Contains(r.End.Text, top.Title) {
				t.Errorf("reply %q does not name the first product %q", r.End.Text, top.Title)
			}
			if price := llm.FormatPrice(top.Price, top.Currency); !strings.Contains(r.End.Text, price) {
				t.Errorf("reply %q does not give the first product's price %s", r.End.Text, price)
			}
			if got := hasHan(r.End.Text); got != tt.zh {
				t.Errorf("reply %q contains Chinese = %v, want %v", r.End.Text, got, tt.zh)
			}
			if tt.zh && !hasHan(top.Title) {
				t.Errorf("card title %q is not the Chinese title", top.Title)
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestOfflineReplyAcknowledgesNegativeEmotion(t *testing.T) {
	tests := []struct {
		name   string
		locale string
		text   string
		marks  []string
	}{
		{name: "english", locale: "en-US", text: "I'm disappointed, sadly my boots broke after a week",
			marks: []string{"sorry", "Sorry", "Don't worry"}},
		{name: "chinese", locale: "zh-CN", text: "太失望了，买的靴子一周就漏水了，真让人生气",
			marks: []string{"抱歉", "别着急"}},
	}
	e := newEnv(t, envOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.Dial(t, e.URL)
			c.Hello(t, protocol.Hello{Locale: tt.locale})
			r := c.Ask(t, "m-1", tt.text)
			if r.End.Scenario == nil {
				t.Fatal("reply.end has no scenario")
			}
			switch r.End.Scenario.Emotion {
			case "negative", "angry", "anxious":
			default:
				t.Fatalf("emotion of %q = %q, want negative, angry or anxious", tt.text, r.End.Scenario.Emotion)
			}
			if !containsAny(r.End.Text, tt.marks) {
				t.Errorf("reply %q does not acknowledge the feeling (want one of %q)", r.End.Text, tt.marks)
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestProviderFailureFallsBackOffline checks each way the model can fail:
// the shopper still gets a stored offline reply within the turn timeout,
// and the turn record names the reason.
func TestProviderFailureFallsBackOffline(t *testing.T) {
	const turnTimeout = 1500 * time.Millisecond
	tests := []struct {
		name       string
		reply      llmtest.Reply
		reason     string
		wantResets int
	}{
		{name: "status_500", reply: llmtest.Reply{Status: http.StatusInternalServerError}, reason: "unavailable"},
		{name: "stream_cut", reply: llmtest.Reply{Chunks: []string{"Partial ", "answer ", "never ends"}, CutAfter: 2},
			reason: "stream_cut", wantResets: 1},
		{name: "stall_past_timeout", reply: llmtest.Reply{Chunks: []string{"Thinking "}, Stall: true},
			reason: "timeout", wantResets: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := llmtest.NewOpenAI(t)
			fake.Script(tt.reply)
			e := newEnv(t, envOptions{fake: fake, turnTimeout: turnTimeout})
			c := wstest.Dial(t, e.URL)
			ready := c.Hello(t, protocol.Hello{Locale: "en-US"})

			r := c.Ask(t, "m-1", "waterproof boots under $150")
			if r.Resets != tt.wantResets {
				t.Errorf("got %d reset deltas, want %d", r.Resets, tt.wantResets)
			}
			if r.Text != r.End.Text {
				t.Errorf("text after resets %q differs from reply.end text %q", r.Text, r.End.Text)
			}
			if strings.Contains(r.End.Text, "Partial") || strings.Contains(r.End.Text, "Thinking") {
				t.Errorf("final reply %q keeps the voided model text", r.End.Text)
			}
			if len(r.End.Products) == 0 || !strings.Contains(r.End.Text, r.End.Products[0].Title) {
				t.Errorf("fallback reply %q does not name the first card", r.End.Text)
			}

			msgs := e.history(ready.UserID)
			if len(msgs) != 2 {
				t.Fatalf("stored %d messages, want 2", len(msgs))
			}
			rec := msgs[1].Turn
			if rec == nil {
				t.Fatal("stored reply has no turn record")
			}
			if !rec.Fallback {
				t.Error("turn record fallback = false, want true")
			}
			if rec.FallbackReason != tt.reason {
				t.Errorf("turn record fallback reason = %q, want %q", rec.FallbackReason, tt.reason)
			}
			if rec.Provider != llm.ProviderOffline {
				t.Errorf("turn record provider = %q, want %q", rec.Provider, llm.ProviderOffline)
			}
			if msgs[1].Text != r.End.Text {
				t.Errorf("stored reply %q differs from reply.end %q", msgs[1].Text, r.End.Text)
			}
			if rec.TotalMS >= turnTimeout.Milliseconds() {
				t.Errorf("turn took %d ms, want under the %v turn timeout", rec.TotalMS, turnTimeout)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("fake LLM got %d requests, want 1 (retries are off)", n)
			}
		})
	}
}

func anyReset(ds []protocol.ReplyDelta) bool {
	for _, d := range ds {
		if d.Reset {
			return true
		}
	}
	return false
}

// storedReply returns the assistant message whose turn record replies to
// the user message at userSeq.
func storedReply(t *testing.T, msgs []memory.Message, userSeq uint64) memory.Message {
	t.Helper()
	for _, m := range msgs {
		if m.Turn != nil && m.Turn.InReplyTo == userSeq {
			return m
		}
	}
	t.Fatalf("no stored reply to seq %d in %d messages", userSeq, len(msgs))
	return memory.Message{}
}
