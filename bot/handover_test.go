package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

// intentDetector reports a fixed intent, so a test decides what the
// shopper asked for.
type intentDetector struct {
	mu     sync.Mutex
	intent scenario.Prediction
}

func (d *intentDetector) set(label string, confidence float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.intent = scenario.Prediction{Label: label, Confidence: confidence}
}

func (d *intentDetector) Detect(in scenario.Input) scenario.Scenario {
	d.mu.Lock()
	defer d.mu.Unlock()
	return scenario.Scenario{Label: "browsing", Language: "en", LocalTime: in.Now, TimeOfDay: "morning",
		Intent: d.intent, Emotion: scenario.Prediction{Label: "neutral", Confidence: 1}}
}

// emptyCatalog has no products.
type emptyCatalog struct{}

func (emptyCatalog) Search(context.Context, retrieval.Query) (retrieval.Result, error) {
	return retrieval.Result{}, nil
}
func (emptyCatalog) Get(string) (retrieval.Product, bool) { return retrieval.Product{}, false }
func (emptyCatalog) Products() []retrieval.Product        { return nil }

// discardSink drops streamed chunks.
type discardSink struct{}

func (discardSink) Start(string, uint64) {}
func (discardSink) Delta(string, bool)   {}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newHandoverEngine(t *testing.T) (*bot.Engine, *memory.Store, *intentDetector, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
	store := memtest.OpenOptions(t, memory.Options{Now: clk.Now})
	prompt, err := bot.ParsePrompt(string(configs.File("prompts/system.tmpl")))
	if err != nil {
		t.Fatal(err)
	}
	det := &intentDetector{}
	e, err := bot.New(bot.Options{Memory: store, Catalog: emptyCatalog{}, Detector: det, Prompt: prompt,
		HandoverTimeout: 10 * time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e, store, det, clk
}

func turnText(t *testing.T, e *bot.Engine, id, text string) bot.Reply {
	t.Helper()
	r, err := e.Turn(context.Background(), bot.Session{UserID: "u1", Locale: "en"},
		bot.Incoming{ClientID: id, Text: text}, discardSink{})
	if err != nil {
		t.Fatalf("turn %s: %v", id, err)
	}
	return r
}

func TestTurnHandsOverWhenShopperAsksForHuman(t *testing.T) {
	e, store, det, clk := newHandoverEngine(t)
	ctx := context.Background()

	det.set("human", 0.9)
	first := turnText(t, e, "m1", "I want to talk to a person")
	if first.HandedOver || first.Seq == 0 {
		t.Fatalf("the request for a human got no reply: %+v", first)
	}
	p, err := store.Profile(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.HandedOver || !p.HandedOverAt.Equal(clk.Now()) {
		t.Fatalf("profile handed_over %v at %v, want true at %v", p.HandedOver, p.HandedOverAt, clk.Now())
	}

	det.set("product_search", 0.9)
	clk.advance(9 * time.Minute)
	if r := turnText(t, e, "m2", "hello?"); !r.HandedOver || r.Seq != 0 {
		t.Errorf("within the timeout the bot answered: %+v", r)
	}

	clk.advance(2 * time.Minute)
	r := turnText(t, e, "m3", "anyone there?")
	if r.HandedOver || r.Seq == 0 {
		t.Errorf("after the timeout the bot did not answer: %+v", r)
	}
	if p, _ = store.Profile(ctx, "u1"); p.HandedOver {
		t.Error("after the timeout the profile is still handed over")
	}
}

func TestTurnIgnoresUnsureHumanIntent(t *testing.T) {
	e, store, det, _ := newHandoverEngine(t)
	det.set("human", 0.4)
	turnText(t, e, "m1", "person?")
	p, err := store.Profile(context.Background(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if p.HandedOver {
		t.Error("a human intent with confidence 0.4 handed the conversation over")
	}
}

func TestStaffMessageRestartsHandoverTimeout(t *testing.T) {
	e, store, _, clk := newHandoverEngine(t)
	ctx := context.Background()
	turnText(t, e, "m1", "hi")
	if _, err := store.UpdateProfile(ctx, "u1", func(p *memory.Profile) error {
		p.HandedOver, p.HandedOverAt = true, clk.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clk.advance(8 * time.Minute)
	// What the console does when a staff member writes.
	if _, err := store.UpdateProfile(ctx, "u1", func(p *memory.Profile) error {
		p.HandedOverAt = clk.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clk.advance(8 * time.Minute)
	if r := turnText(t, e, "m2", "thanks"); !r.HandedOver {
		t.Errorf("16 minutes after takeover but 8 after the staff message the bot answered: %+v", r)
	}
}

func TestHandoverWithoutTimeNeverExpires(t *testing.T) {
	e, store, _, clk := newHandoverEngine(t)
	turnText(t, e, "m1", "hi")
	if err := store.SetHandedOver(context.Background(), "u1", true); err != nil {
		t.Fatal(err)
	}
	clk.advance(24 * time.Hour)
	if r := turnText(t, e, "m2", "hello"); !r.HandedOver {
		t.Errorf("a handover without a time expired: %+v", r)
	}
}
