package bot

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

// Incoming is a shopper's message.
type Incoming struct {
	ClientID string // the client's id for the message, for de-duplication
	Text     string
}

// Sink receives a reply as it is generated. Turn calls its methods on its
// own goroutine, so they must not block for long. A sink whose client has
// gone away drops what it gets: the turn still finishes and is stored, and
// a reconnecting client finds the reply in its history.
type Sink interface {
	Start(turnID string, userSeq uint64)
	// Delta sends the next chunk. reset means the chunks sent so far are
	// void (the model failed mid-reply) and text starts the reply anew.
	Delta(text string, reset bool)
}

// Reply is a finished turn.
type Reply struct {
	TurnID       string
	InReplyTo    string // the client's message id
	UserSeq      uint64 // seq of the stored user message
	Seq          uint64 // seq of the stored reply; zero when there is none
	Text         string
	Products     []ProductCard
	Offer        *OfferCard
	Scenario     ScenarioCard
	QuickReplies []string
	Relaxed      bool
	// Duplicate reports that the message id already has a stored reply:
	// nothing was stored or generated, and the fields describe that reply.
	Duplicate bool
	// HandedOver reports that a staff member owns the conversation, so the
	// message was stored and the bot did not reply.
	HandedOver bool
	// Handover is "requested" when this reply handed the conversation to
	// staff because the shopper asked for a person, "bot" when an expired
	// handover came back to the bot on this turn, and empty otherwise.
	Handover string
	Stats    TurnStats
}

// TurnStats measures one turn, for logs and metrics.
type TurnStats struct {
	Outcome        string // "answered", "fallback", "duplicate" or "handed_over" (metric label values)
	Provider       string
	Model          string
	FallbackReason string
	TokensIn       int
	TokensOut      int
	FirstToken     time.Duration // from the start of the turn to the first delta
	Total          time.Duration
	Detect         time.Duration
	Retrieval      time.Duration
	Store          time.Duration
	Variant        string
}

// ErrEmptyMessage is returned by Turn for a message with no text.
var ErrEmptyMessage = errors.New("message text is empty")

// Turn replies to one message. It stores the message, detects the
// scenario, retrieves products, chooses an offer, streams the reply to sink,
// stores the reply and returns it; the reply is stored before Turn returns.
func (e *Engine) Turn(ctx context.Context, s Session, in Incoming, sink Sink) (Reply, error) {
	start := e.now()
	if strings.TrimSpace(in.Text) == "" {
		return Reply{}, ErrEmptyMessage
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.TurnTimeout)
	defer cancel()

	storeStart := time.Now()
	userMsg, prior, err := e.opts.Memory.AppendUserMessage(ctx, s.UserID, in.ClientID, in.Text)
	if err != nil {
		return Reply{}, fmt.Errorf("turn: store message: %w", err)
	}
	storeDur := time.Since(storeStart)
	lang := scenario.DetectLanguage(in.Text, s.Locale)
	if prior != nil {
		return e.duplicateReply(in, userMsg, *prior, lang), nil
	}
	profile, err := e.opts.Memory.Profile(ctx, s.UserID)
	if err != nil && !errors.Is(err, memory.ErrNotFound) {
		return Reply{}, fmt.Errorf("turn: load profile: %w", err)
	}
	released := false
	if profile.HandedOver {
		if !e.handoverExpired(profile, start) {
			return Reply{InReplyTo: in.ClientID, UserSeq: userMsg.Seq, HandedOver: true,
				Stats: TurnStats{Outcome: "handed_over", Total: e.now().Sub(start)}}, nil
		}
		if profile, err = e.releaseHandover(ctx, s.UserID); err != nil {
			return Reply{}, fmt.Errorf("turn: %w", err)
		}
		released = true
	}

	t := &turn{e: e, s: s, in: in, userMsg: userMsg, profile: profile, lang: lang, start: start}
	t.id = newTurnID()
	t.stats.Store = storeDur
	sink.Start(t.id, userMsg.Seq)
	if err := t.gather(ctx); err != nil {
		return Reply{}, err
	}
	t.generate(ctx, sink)
	reply, err := t.finish(ctx)
	switch {
	case err != nil:
	case t.wantsHuman():
		reply.Handover = "requested"
	case released:
		reply.Handover = "bot"
	}
	return reply, err
}

// turn holds the state of one Turn call as it moves through the pipeline.
type turn struct {
	e       *Engine
	s       Session
	in      Incoming
	id      string
	userMsg memory.Message
	profile memory.Profile
	lang    string
	start   time.Time
	variant offer.Variant

	recent   []memory.Message
	scenario scenario.Scenario
	result   retrieval.Result
	decision offer.Decision
	text     string
	stats    TurnStats
}

// gather runs the pure steps of the turn: memory, scenario, retrieval and
// offer. Only the memory reads do I/O.
func (t *turn) gather(ctx context.Context) error {
	e := t.e
	recent, err := e.opts.Memory.RecentTexts(ctx, t.s.UserID, e.opts.HistoryMessages+1)
	if err != nil {
		return fmt.Errorf("turn: load history: %w", err)
	}
	if n := len(recent); n > 0 && recent[n-1].Seq == t.userMsg.Seq {
		recent = recent[:n-1]
	}
	t.recent = recent
	events, err := e.opts.Memory.Events(ctx, t.s.UserID, t.start.Add(-30*24*time.Hour))
	if err != nil {
		return fmt.Errorf("turn: load events: %w", err)
	}
	t.variant = e.assign(t.s.UserID)
	t.stats.Variant = t.variant.Name

	detectStart := time.Now()
	t.scenario = e.opts.Detector.Detect(scenario.Input{
		Now: t.start, Timezone: t.s.Timezone, Locale: t.s.Locale,
		Country: t.s.Country, Region: t.s.Region, City: t.s.City,
		Device: t.s.Device, Page: t.s.Page, Text: t.in.Text,
		Behavior: behavior(t.profile, events, t.s, t.start),
		Segment:  t.profile.Segment,
	})
	t.stats.Detect = time.Since(detectStart)

	retrievalStart := time.Now()
	if wantsProducts(t.scenario.Intent) {
		text := searchText(t.in.Text, t.recent, t.scenario.Intent.Label)
		t.result, err = e.opts.Catalog.Search(ctx, retrieval.Query{
			Text: text, Limit: e.opts.Products, Filter: e.priceFilter(text),
			Budget: t.profile.Budget,
		})
		if err != nil {
			return fmt.Errorf("turn: search catalog: %w", err)
		}
	}
	t.stats.Retrieval = time.Since(retrievalStart)

	// A shopper who requests a person gets no promotion with the handover.
	if e.opts.Offers != nil && !t.wantsHuman() {
		if err := t.chooseOffer(ctx); err != nil {
			return err
		}
	}
	return nil
}

// chooseOffer gets an offer from the picker. The experiment variant decides
// what the picker reads: "none" hides the scenario and the user's memory,
// "scenario" hides only the memory.
func (t *turn) chooseOffer(ctx context.Context) error {
	shown, err := t.e.opts.Memory.ImpressionCounts(ctx, t.s.UserID)
	if err != nil {
		return fmt.Errorf("turn: load impression counts: %w", err)
	}
	c := offer.Context{
		UserID: t.s.UserID, Now: t.start, Scenario: t.scenario, Segment: t.profile.Segment,
		Categories: categories(t.result.Hits), CartValue: t.s.CartValue,
		NewUser: t.profile.Turns == 0 && t.profile.Purchases == 0, Country: t.scenario.Country,
		Device: t.s.Device, PageKind: t.s.Page.Kind, Language: t.lang, Shown: shown,
	}
	switch t.variant.Personalize {
	case offer.PersonalizeNone:
		c.Scenario = scenario.Scenario{Label: scenario.LabelBrowsing, Language: t.lang,
			LocalTime: t.scenario.LocalTime, Country: t.scenario.Country}
		c.Segment, c.Categories = "", nil
	case offer.PersonalizeScenario:
		c.Segment = ""
	}
	t.decision = t.e.opts.Offers.Choose(ctx, c)
	return nil
}

// nonProductIntents are intents whose replies carry no product cards when
// the classifier is confident about them.
var nonProductIntents = map[string]bool{
	"order_status": true, "shipping": true, "return_refund": true, "complaint": true,
	"greeting": true, "human": true, "oos": true, "chitchat": true,
}

func wantsProducts(intent scenario.Prediction) bool {
	return !nonProductIntents[intent.Label] || intent.Confidence < 0.5
}

// searchText widens a short follow-up ("any cheaper?", "黑色的呢") with the
// previous user message, so the search keeps the subject of the
// conversation.
func searchText(text string, recent []memory.Message, intent string) string {
	short := len(strings.Fields(text)) < 3 && utf8.RuneCountInString(text) < 8
	if !short && intent != "price" && intent != "comparison" {
		return text
	}
	for i := len(recent) - 1; i >= 0; i-- {
		if recent[i].Role == memory.RoleUser {
			return recent[i].Text + " " + text
		}
	}
	return text
}

func categories(hits []retrieval.Hit) []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range hits {
		if c := h.Product.Category; c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// generate streams the reply from the model, or from the offline responder
// when there is no model or the model fails.
func (t *turn) generate(ctx context.Context, sink Sink) {
	e := t.e
	facts := t.facts()
	sent := false
	onDelta := func(d string) error {
		if !sent {
			t.stats.FirstToken = e.now().Sub(t.start)
			sent = true
		}
		sink.Delta(d, false)
		return nil
	}
	if e.opts.Provider != nil {
		llmCtx, cancel := context.WithTimeout(ctx, t.modelBudget(ctx))
		resp, err := e.opts.Provider.Stream(llmCtx, t.request(), onDelta)
		cancel()
		if err == nil && strings.TrimSpace(resp.Text) != "" {
			t.text = resp.Text
			t.stats.Provider, t.stats.Model = resp.Provider, resp.Model
			t.stats.TokensIn, t.stats.TokensOut = resp.TokensIn, resp.TokensOut
			t.stats.Outcome = "answered"
			return
		}
		if err == nil {
			err = llm.ErrEmptyReply
		}
		t.stats.FallbackReason = llm.Classify(err)
		e.log.Warn("offline fallback", "turn_id", t.id, "user_id", t.s.UserID,
			"provider", e.opts.Provider.Name(), "code", t.stats.FallbackReason, "error", err)
	}
	reset := sent
	offlineDelta := func(d string) error {
		if !sent {
			t.stats.FirstToken = e.now().Sub(t.start)
			sent = true
		}
		sink.Delta(d, reset)
		reset = false
		return nil
	}
	// The offline responder runs even when ctx is done (a closed tab or the
	// turn deadline), so that every stored message has a stored answer.
	resp, _ := e.opts.Offline.Stream(context.WithoutCancel(ctx), facts, offlineDelta)
	t.text = resp.Text
	t.stats.Provider, t.stats.Model = resp.Provider, resp.Model
	t.stats.TokensIn, t.stats.TokensOut = resp.TokensIn, resp.TokensOut
	t.stats.Outcome = "answered"
	if t.stats.FallbackReason != "" {
		t.stats.Outcome = "fallback"
	}
}

// modelBudget leaves a second of the turn for the offline fallback.
func (t *turn) modelBudget(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return t.e.opts.TurnTimeout
	}
	budget := time.Until(deadline) - time.Second
	if budget < 0 {
		return 0
	}
	return budget
}

// finish stores the reply and updates the profile. It uses a context that
// survives the client going away, because the reply must be stored.
func (t *turn) finish(ctx context.Context) (Reply, error) {
	e := t.e
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	reply := t.reply()
	record := t.record(reply)
	var imp *memory.Impression
	if o := t.decision.Offer; o != nil {
		imp = &memory.Impression{OfferID: o.ID, TurnID: t.id, Variant: t.variant.Name,
			Time: t.start, Features: t.decision.Features}
	}
	// The reply, its impression and the profile changes commit together:
	// one disk sync, and never a reply without its impression.
	storeStart := time.Now()
	msg, err := e.opts.Memory.FinishTurn(ctx, t.s.UserID, t.text, record, imp, t.updateProfile)
	if err != nil {
		return Reply{}, fmt.Errorf("turn %s: store reply: %w", t.id, err)
	}
	reply.Seq = msg.Seq
	if e.opts.LogContent {
		e.log.Debug("turn text", "turn_id", t.id, "user_id", t.s.UserID,
			"message", e.opts.Mask(t.in.Text), "reply", e.opts.Mask(t.text))
	}
	t.stats.Store += time.Since(storeStart)
	t.stats.Total = e.now().Sub(t.start)
	reply.Stats = t.stats
	return reply, nil
}

func (t *turn) reply() Reply {
	r := Reply{
		TurnID: t.id, InReplyTo: t.in.ClientID, UserSeq: t.userMsg.Seq, Text: t.text,
		Scenario: scenarioCard(t.scenario), Relaxed: t.result.Relaxed,
		QuickReplies: quickReplies(t.scenario.Intent.Label, t.lang, len(t.result.Hits) > 0),
	}
	for _, h := range t.result.Hits {
		r.Products = append(r.Products, productCard(h.Product, t.lang))
	}
	if o := t.decision.Offer; o != nil {
		r.Offer = offerCard(*o, t.lang, t.scenario)
	}
	return r
}

// record builds the decision record stored with the reply.
func (t *turn) record(r Reply) *memory.TurnRecord {
	rec := &memory.TurnRecord{
		TurnID: t.id, InReplyTo: t.userMsg.Seq,
		ScenarioLabel: t.scenario.Label, Intent: t.scenario.Intent.Label,
		Emotion: t.scenario.Emotion.Label, Segment: t.profile.Segment, Variant: t.variant.Name,
		Provider: t.stats.Provider, Model: t.stats.Model,
		Fallback: t.stats.FallbackReason != "", FallbackReason: t.stats.FallbackReason,
		TokensIn: t.stats.TokensIn, TokensOut: t.stats.TokensOut,
		FirstTokenMS: t.stats.FirstToken.Milliseconds(), TotalMS: t.e.now().Sub(t.start).Milliseconds(),
	}
	for _, h := range t.result.Hits {
		rec.Products = append(rec.Products, memory.Scored{ID: h.Product.ID, Score: h.Score})
	}
	if r.Offer != nil {
		rec.OfferID = r.Offer.ID
	}
	details := turnDetails{
		Scenario: t.scenario, Filter: t.result.Filter, Relaxed: t.result.Relaxed,
		OfferReason: t.decision.Reason, OfferCandidates: t.decision.Candidates,
		QuickReplies: r.QuickReplies,
		Latency: map[string]int64{
			"detect_us": t.stats.Detect.Microseconds(), "retrieval_us": t.stats.Retrieval.Microseconds(),
			"store_us": t.stats.Store.Microseconds(),
		},
	}
	for _, h := range t.result.Hits {
		details.Hits = append(details.Hits, hitDetail{ID: h.Product.ID, Score: h.Score,
			KeywordScore: h.KeywordScore, VectorScore: h.VectorScore})
	}
	rec.Details, _ = json.Marshal(details)
	return rec
}

// turnDetails is the part of the decision record that staff read but the
// store does not index.
type turnDetails struct {
	Scenario        scenario.Scenario `json:"scenario"`
	Filter          retrieval.Filter  `json:"filter"`
	Relaxed         bool              `json:"relaxed,omitempty"`
	Hits            []hitDetail       `json:"hits,omitempty"`
	OfferReason     string            `json:"offer_reason,omitempty"`
	OfferCandidates []offer.Candidate `json:"offer_candidates,omitempty"`
	QuickReplies    []string          `json:"quick_replies,omitempty"`
	Latency         map[string]int64  `json:"latency"`
}

type hitDetail struct {
	ID           string  `json:"id"`
	Score        float64 `json:"score"`
	KeywordScore float64 `json:"keyword_score"`
	VectorScore  float64 `json:"vector_score"`
}

// emotionValence maps emotions to the sentiment used for the profile's
// emotion trend.
var emotionValence = map[string]float64{
	"positive": 1, "neutral": 0, "negative": -0.6, "anxious": -0.5, "angry": -1,
}

// updateProfile leaves p.Turns alone: AppendReply counts the turn in the
// same transaction that stores the reply.
func (t *turn) updateProfile(p *memory.Profile) error {
	if t.wantsHuman() {
		// The reply says that a staff member will join, so the bot stays
		// quiet until staff hand the conversation back or the timeout ends.
		p.HandedOver, p.HandedOverAt = true, t.start
	}
	if p.Country == "" {
		p.Country = t.scenario.Country
	}
	p.EmotionTrend = 0.7*p.EmotionTrend + 0.3*emotionValence[t.scenario.Emotion.Label]
	if f := t.result.Filter; f.MaxPrice > 0 {
		p.Budget = f.MaxPrice
	}
	if len(t.result.Hits) > 0 && !t.result.Relaxed {
		if p.CategoryAffinity == nil {
			p.CategoryAffinity = map[string]float64{}
		}
		p.CategoryAffinity[t.result.Hits[0].Product.Category] += 0.5
	}
	p.Summary = summarize(p.Summary, t.recent, t.e.opts.HistoryMessages)
	return nil
}

// wantsHuman reports whether the shopper asked for a person with enough
// confidence to hand the conversation over.
func (t *turn) wantsHuman() bool {
	return t.scenario.Intent.Label == "human" && t.scenario.Intent.Confidence >= 0.5
}

// handoverExpired reports whether a handed-over conversation has had no
// handover or staff message for HandoverTimeout. A handover without a time
// never expires.
func (e *Engine) handoverExpired(p memory.Profile, now time.Time) bool {
	return !p.HandedOverAt.IsZero() && now.Sub(p.HandedOverAt) >= e.opts.HandoverTimeout
}

// releaseHandover gives an expired handover back to the bot and returns the
// updated profile.
func (e *Engine) releaseHandover(ctx context.Context, userID string) (memory.Profile, error) {
	p, err := e.opts.Memory.UpdateProfile(ctx, userID, func(p *memory.Profile) error {
		p.HandedOver, p.HandedOverAt = false, time.Time{}
		return nil
	})
	if err != nil {
		return memory.Profile{}, fmt.Errorf("release handover: %w", err)
	}
	e.log.Info("handover timed out; the bot replies again", "user_id", userID,
		"timeout", e.opts.HandoverTimeout.String())
	return p, nil
}

func (e *Engine) duplicateReply(in Incoming, userMsg, prior memory.Message, lang string) Reply {
	item := e.historyItem(prior, lang)
	r := Reply{InReplyTo: in.ClientID, UserSeq: userMsg.Seq, Seq: prior.Seq, Text: prior.Text,
		Products: item.Products, Duplicate: true, Stats: TurnStats{Outcome: "duplicate"}}
	if prior.Turn != nil {
		r.TurnID = prior.Turn.TurnID
	}
	return r
}

func (e *Engine) assign(userID string) offer.Variant {
	return assignVariant(e.opts.Experiment, userID)
}

// assignVariant returns the user's variant, or full personalisation when
// no experiment runs.
func assignVariant(exp *offer.Experiment, userID string) offer.Variant {
	if exp == nil || len(exp.Variants) == 0 {
		return offer.Variant{Name: "", Personalize: "full"}
	}
	return offer.Assign(*exp, userID)
}

// newTurnID returns a random id such as t_3f9a1c0b7e2d4a6f.
func newTurnID() string {
	return "t_" + strings.ToLower(rand.Text()[:16])
}
