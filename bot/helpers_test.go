package bot

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

// The detector is trained once from configs/training and shared, because
// training takes a moment and Detect is safe for concurrent use.
var (
	detectorOnce sync.Once
	testDetector *scenario.Detector
	detectorErr  error
)

func sharedDetector(t testing.TB) *scenario.Detector {
	t.Helper()
	detectorOnce.Do(func() {
		intents, err := scenario.ReadExamples(bytes.NewReader(configs.File("training/intent.jsonl")), "jsonl", "", "")
		if err != nil {
			detectorErr = err
			return
		}
		emotions, err := scenario.ReadExamples(bytes.NewReader(configs.File("training/emotion.jsonl")), "jsonl", "", "")
		if err != nil {
			detectorErr = err
			return
		}
		testDetector, detectorErr = scenario.NewDetector(scenario.Options{
			IntentExamples: intents, EmotionExamples: emotions})
	})
	if detectorErr != nil {
		t.Fatalf("train scenario detector: %v", detectorErr)
	}
	return testDetector
}

// testCatalog is a small catalog in two languages and two currencies.
var testCatalog = []retrieval.Product{
	{ID: "trail-boot", Title: "Trail Waterproof Boot", Description: "Leather hiking boot with a waterproof membrane.",
		Category: "Shoes > Boots", Tags: []string{"waterproof", "boots"}, Price: 129, Currency: "USD", InStock: true,
		URL: "/products/trail-boot", Image: "/img/products/trail-boot.svg",
		Localized: map[string]retrieval.LocalText{"zh": {Title: "防水登山靴"}}},
	{ID: "rain-boot", Title: "City Rain Boot", Description: "Tall rubber rain boot, fully waterproof.",
		Category: "Shoes > Boots", Tags: []string{"rain", "boots"}, Price: 79, CompareAtPrice: 99, Currency: "USD",
		InStock: true, URL: "/products/rain-boot", Image: "/img/products/rain-boot.svg"},
	{ID: "tea-set", Title: "Celadon Tea Set", Description: "Celadon porcelain tea set with six cups, in a gift box.",
		Category: "Home > Tea", Tags: []string{"tea", "gift"}, Price: 168, Currency: "CNY", InStock: true,
		URL: "/products/tea-set", Image: "/img/products/tea-set.svg",
		Localized: map[string]retrieval.LocalText{"zh": {Title: "青瓷茶具套装", Description: "青瓷茶具，六只茶杯，礼盒装。"}}},
	{ID: "wool-scarf", Title: "Merino Wool Scarf", Description: "Soft merino scarf, a warm winter gift.",
		Category: "Apparel > Accessories", Tags: []string{"wool", "gift"}, Price: 39, Currency: "USD", InStock: true,
		URL: "/products/wool-scarf", Image: "/img/products/wool-scarf.svg"},
}

// scriptedProvider is an llm.Provider that streams fixed chunks and then
// fails with err, or blocks until its context ends when block is set. It
// records each request.
type scriptedProvider struct {
	chunks []string
	err    error
	block  bool

	mu       sync.Mutex
	requests []llm.Request // guarded by mu
}

func (p *scriptedProvider) Name() string  { return "scripted" }
func (p *scriptedProvider) Model() string { return "scripted-model" }

func (p *scriptedProvider) Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Response, error) {
	p.mu.Lock()
	p.requests = append(p.requests, req)
	p.mu.Unlock()
	for _, c := range p.chunks {
		if err := onDelta(c); err != nil {
			return llm.Response{}, err
		}
	}
	if p.block {
		<-ctx.Done()
		return llm.Response{}, ctx.Err()
	}
	if p.err != nil {
		return llm.Response{}, p.err
	}
	return llm.Response{Text: strings.Join(p.chunks, ""), Provider: p.Name(), Model: p.Model(),
		TokensIn: 10, TokensOut: len(p.chunks)}, nil
}

func (p *scriptedProvider) recorded() []llm.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]llm.Request(nil), p.requests...)
}

// recordingSink records what a turn streams.
type recordingSink struct {
	turnID  string
	userSeq uint64
	starts  int
	deltas  []string
	resets  []bool
}

func (s *recordingSink) Start(turnID string, userSeq uint64) {
	s.turnID, s.userSeq = turnID, userSeq
	s.starts++
}

func (s *recordingSink) Delta(text string, reset bool) {
	s.deltas = append(s.deltas, text)
	s.resets = append(s.resets, reset)
}

// shown returns the text a client shows: the deltas after the last reset.
func (s *recordingSink) shown() string {
	var b strings.Builder
	for i, d := range s.deltas {
		if s.resets[i] {
			b.Reset()
		}
		b.WriteString(d)
	}
	return b.String()
}

type testEngine struct {
	*Engine
	store *memory.Store
}

// newTestEngine builds an Engine over a bbolt store in t.TempDir(), an
// in-memory index of testCatalog, the trained detector and the offers of
// configs/offers.yaml. With a nil provider the offline responder replies.
// mutate may set the clock and scalar options, and the dependencies are
// filled in after it runs.
func newTestEngine(t *testing.T, provider llm.Provider, mutate func(*Options)) testEngine {
	t.Helper()
	// mutate runs first so that a clock it sets drives the store as well.
	var opts Options
	if mutate != nil {
		mutate(&opts)
	}
	store := memtest.OpenOptions(t, memory.Options{Now: opts.Now})

	ix, err := retrieval.Open(context.Background(), "", retrieval.Options{})
	if err != nil {
		t.Fatalf("open in-memory index: %v", err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.Upsert(context.Background(), testCatalog); err != nil {
		t.Fatalf("upsert test catalog: %v", err)
	}
	offers, err := offer.ParseOffers(configs.File("offers.yaml"))
	if err != nil {
		t.Fatalf("parse offers: %v", err)
	}
	picker, err := offer.NewPicker(offers, offer.Options{State: store,
		IsNotFound: func(err error) bool { return errors.Is(err, memory.ErrNotFound) }})
	if err != nil {
		t.Fatalf("new picker: %v", err)
	}
	prompt, err := ParsePrompt(string(configs.File("prompts/system.tmpl")))
	if err != nil {
		t.Fatalf("parse prompt: %v", err)
	}
	if opts.TurnTimeout == 0 {
		opts.TurnTimeout = 5 * time.Second
	}
	opts.Memory, opts.Catalog, opts.Detector, opts.Offers = store, ix, sharedDetector(t), picker
	opts.Prompt, opts.StoreName, opts.Provider = prompt, "Test Store", provider
	e, err := New(opts)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	return testEngine{Engine: e, store: store}
}

func (te testEngine) history(t *testing.T, userID string) []memory.Message {
	t.Helper()
	msgs, err := te.store.History(context.Background(), userID, 0, 0)
	if err != nil {
		t.Fatalf("load history: %v", err)
	}
	return msgs
}
