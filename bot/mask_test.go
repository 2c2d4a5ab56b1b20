package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

// recordingProvider keeps every request and returns the reply "ok".
type recordingProvider struct {
	mu       sync.Mutex
	requests []llm.Request
}

func (p *recordingProvider) Name() string  { return "recording" }
func (p *recordingProvider) Model() string { return "test" }

func (p *recordingProvider) Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Response, error) {
	p.mu.Lock()
	p.requests = append(p.requests, req)
	p.mu.Unlock()
	if err := onDelta("ok"); err != nil {
		return llm.Response{}, err
	}
	return llm.Response{Text: "ok", Provider: "recording", Model: "test"}, nil
}

func TestTurnMasksTextSentToModel(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
	store := memtest.OpenOptions(t, memory.Options{Now: clk.Now})
	prompt, err := bot.ParsePrompt(string(configs.File("prompts/system.tmpl")))
	if err != nil {
		t.Fatal(err)
	}
	det := &intentDetector{}
	det.set("product_search", 0.9)
	provider := &recordingProvider{}
	// A short history window makes the profile summary quote the first
	// message by the last turn.
	e, err := bot.New(bot.Options{Memory: store, Catalog: emptyCatalog{}, Detector: det, Prompt: prompt,
		Provider: provider, HistoryMessages: 2, Mask: memory.MaskPII, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"my phone is 13800138000", "mail me at li@example.com", "card 4111 1111 1111 1111",
		"and what about tea?"}
	for i, text := range texts {
		_, err := e.Turn(context.Background(), bot.Session{UserID: "u1", Locale: "en"},
			bot.Incoming{ClientID: string(rune('a' + i)), Text: text}, discardSink{})
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := store.Profile(context.Background(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Summary, "13800138000") {
		t.Fatalf("profile summary %q does not quote the first message; the test would not check it", p.Summary)
	}

	if len(provider.requests) != len(texts) {
		t.Fatalf("model got %d requests, want %d", len(provider.requests), len(texts))
	}
	for i, req := range provider.requests {
		for _, m := range req.Messages {
			for _, secret := range []string{"13800138000", "li@example.com", "4111 1111 1111 1111"} {
				if strings.Contains(m.Content, secret) {
					t.Errorf("request %d, %s message contains %q", i, m.Role, secret)
				}
			}
		}
	}
}
