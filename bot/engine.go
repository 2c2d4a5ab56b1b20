package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/template"
	"time"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/scenario"
)

// Options configures an Engine. Memory, Catalog and Detector are required.
type Options struct {
	Memory   Memory
	Catalog  Catalog
	Detector Detector
	Offers   OfferPicker // nil shows no offers
	// Experiment splits users into variants that change what a turn does;
	// nil runs every turn fully personalised.
	Experiment *offer.Experiment
	Provider   llm.Provider // nil: the offline responder writes every reply
	Offline    llm.Offline

	Prompt          *template.Template // system prompt; see configs/prompts/system.tmpl
	StoreName       string
	TurnTimeout     time.Duration // whole turn, fallback included; zero means 45s
	HistoryMessages int           // recent messages in the prompt; zero means 8
	Products        int           // product cards per reply; zero means 3
	Temperature     float64
	MaxTokens       int
	// AttributionWindow is how long after an impression a click, redemption
	// or purchase counts for that offer; zero means 24h.
	AttributionWindow time.Duration
	// HandoverTimeout is how long a conversation stays with staff after the
	// handover or the last staff message, after which the bot replies
	// again. Zero means 10 minutes.
	HandoverTimeout time.Duration
	// Mask hides personal data before text reaches the model or the logs;
	// nil sends text unchanged.
	Mask func(string) string
	// CurrencyRates gives units of each currency per US dollar, such as
	// {"USD": 1, "CNY": 7.1}, to convert a price bound stated in one
	// currency into the catalog's; nil leaves bounds as written.
	CurrencyRates map[string]float64
	// LogContent logs the masked message and reply text at debug level;
	// off by default so transcripts stay out of logs.
	LogContent bool
	Logger     *slog.Logger
	Now        func() time.Time
}

// Engine runs turns. It is safe for concurrent use; callers run at most one
// turn at a time per conversation, which keeps replies in order.
type Engine struct {
	currencyCache
	opts Options
	log  *slog.Logger
	now  func() time.Time
}

// New checks opts and returns an Engine.
func New(opts Options) (*Engine, error) {
	if opts.Memory == nil || opts.Catalog == nil || opts.Detector == nil {
		return nil, errors.New("bot: Memory, Catalog and Detector are required")
	}
	if opts.Prompt == nil {
		return nil, errors.New("bot: Prompt template is required")
	}
	if opts.TurnTimeout <= 0 {
		opts.TurnTimeout = 45 * time.Second
	}
	if opts.HistoryMessages <= 0 {
		opts.HistoryMessages = 8
	}
	if opts.Products <= 0 {
		opts.Products = 3
	}
	if opts.AttributionWindow <= 0 {
		opts.AttributionWindow = 24 * time.Hour
	}
	if opts.HandoverTimeout <= 0 {
		opts.HandoverTimeout = 10 * time.Minute
	}
	if opts.StoreName == "" {
		opts.StoreName = "the store"
	}
	if opts.Mask == nil {
		opts.Mask = func(s string) string { return s }
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Engine{opts: opts, log: log, now: now}, nil
}

// Session describes the shopper of one connection, from hello and later
// page events.
type Session struct {
	UserID         string
	ConversationID string
	Locale         string
	Timezone       string
	Device         string
	Country        string
	Region         string
	City           string
	Page           scenario.Page
	CartValue      float64
	// SinceLastVisit is the time between this visit and the one before;
	// zero on a first visit. Hello returns it.
	SinceLastVisit time.Duration
}

// HelloResult is the conversation state returned to a connecting client.
type HelloResult struct {
	ConversationID string
	History        []HistoryItem
	HandedOver     bool
	Profile        memory.Profile
	SinceLastVisit time.Duration // zero on a first visit
}

// HistoryItem is a stored message with the product cards and offer it
// carried, for replaying a conversation.
type HistoryItem struct {
	memory.Message
	Products []ProductCard
	Offer    *OfferCard
}

// Hello records a visit and returns the conversation after resumeAfter.
func (e *Engine) Hello(ctx context.Context, s Session, resumeAfter uint64) (HelloResult, error) {
	var since time.Duration
	before, err := e.opts.Memory.Profile(ctx, s.UserID)
	switch {
	case err == nil:
		since = e.now().Sub(before.LastSeen)
	case !errors.Is(err, memory.ErrNotFound):
		return HelloResult{}, fmt.Errorf("hello: %w", err)
	}
	p, convID, err := e.opts.Memory.Touch(ctx, s.UserID, memory.Visit{
		Locale: s.Locale, Timezone: s.Timezone, Country: s.Country,
	})
	if err != nil {
		return HelloResult{}, fmt.Errorf("hello: %w", err)
	}
	msgs, err := e.opts.Memory.History(ctx, s.UserID, resumeAfter, 0)
	if err != nil {
		return HelloResult{}, fmt.Errorf("hello: %w", err)
	}
	lang := scenario.DetectLanguage("", s.Locale)
	items := make([]HistoryItem, len(msgs))
	for i, m := range msgs {
		items[i] = e.historyItem(m, lang)
	}
	return HelloResult{ConversationID: convID, History: items, HandedOver: p.HandedOver,
		Profile: p, SinceLastVisit: since}, nil
}

func (e *Engine) historyItem(m memory.Message, lang string) HistoryItem {
	item := HistoryItem{Message: m}
	if m.Turn == nil {
		return item
	}
	for _, sp := range m.Turn.Products {
		if p, ok := e.opts.Catalog.Get(sp.ID); ok {
			item.Products = append(item.Products, productCard(p, lang))
		}
	}
	return item
}

// Event stores a commerce or UI event and feeds it to the profile and, for
// offer outcomes, to the bandit.
func (e *Engine) Event(ctx context.Context, s Session, ev memory.Event) error {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	if ev.ProductID != "" && ev.Category == "" {
		if p, ok := e.opts.Catalog.Get(ev.ProductID); ok {
			ev.Category = p.Category
		}
	}
	if err := e.opts.Memory.AppendEvent(ctx, s.UserID, ev); err != nil {
		return fmt.Errorf("event %s: %w", ev.Type, err)
	}
	_, err := e.opts.Memory.UpdateProfile(ctx, s.UserID, func(p *memory.Profile) error {
		applyEvent(p, ev)
		return nil
	})
	// A user erased while connected has no profile. The event is stored
	// already, so an error here would make the client resend it and store
	// it twice.
	if err != nil && !errors.Is(err, memory.ErrNotFound) {
		return fmt.Errorf("event %s: %w", ev.Type, err)
	}
	return e.rewardOffer(ctx, s.UserID, ev)
}

// eventWeights gives how much each event adds to a category's affinity.
var eventWeights = map[string]float64{
	"product_view": 1, "add_to_cart": 3, "remove_from_cart": -1, "purchase": 5,
}

func applyEvent(p *memory.Profile, ev memory.Event) {
	if w, ok := eventWeights[ev.Type]; ok && ev.Category != "" {
		if p.CategoryAffinity == nil {
			p.CategoryAffinity = map[string]float64{}
		}
		p.CategoryAffinity[ev.Category] += w
	}
	if ev.Type == "purchase" {
		p.Purchases++
		p.Revenue += ev.Value
	}
}

// rewardOffer attributes an offer click or redemption to the
// latest impression within the attribution window and rewards the bandit.
func (e *Engine) rewardOffer(ctx context.Context, userID string, ev memory.Event) error {
	if e.opts.Offers == nil {
		return nil
	}
	// Purchases are attributed in reports, not learned from: a purchase
	// often follows a click that was already rewarded.
	reward := map[string]float64{"offer_click": 1, "offer_redeem": 1}[ev.Type]
	if reward == 0 {
		return nil
	}
	imps, err := e.opts.Memory.Impressions(ctx, userID)
	if err != nil {
		return fmt.Errorf("attribute %s: %w", ev.Type, err)
	}
	for i := len(imps) - 1; i >= 0; i-- {
		imp := imps[i]
		if ev.Time.Sub(imp.Time) > e.opts.AttributionWindow || imp.Time.After(ev.Time) {
			continue
		}
		if ev.OfferID != "" && imp.OfferID != ev.OfferID {
			continue
		}
		if err := e.opts.Offers.Reward(ctx, imp.OfferID, imp.Features, reward); err != nil {
			return fmt.Errorf("attribute %s to offer %s: %w", ev.Type, imp.OfferID, err)
		}
		return nil
	}
	return nil
}
