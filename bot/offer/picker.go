package offer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Bandit defaults and bounds.
const (
	DefaultAlpha          = 0.5
	MaxAlpha              = 5.0
	DefaultMinImpressions = 20
)

// Errors returned by the picker.
var (
	// ErrInvalidOptions is returned by NewPicker for an option out of range.
	ErrInvalidOptions = errors.New("invalid picker options")
	// ErrUnknownOffer is returned by Reward for an offer id that is not in
	// the current offer set, for example after a reload removed it.
	ErrUnknownOffer = errors.New("unknown offer")
	// ErrInvalidFeatures is returned by Reward when the feature vector does
	// not have length FeatureDim or holds a NaN or infinity, or the reward
	// is not finite.
	ErrInvalidFeatures = errors.New("invalid features")
)

// State persists bandit weights between restarts and reports impression
// totals for budgets. memory.Store implements it.
type State interface {
	GetState(ctx context.Context, key string) ([]byte, error)
	PutState(ctx context.Context, key string, value []byte) error
	// OfferTotals returns the stored impression count of each offer id.
	OfferTotals(ctx context.Context) (map[string]int, error)
}

// Options configures a Picker.
type Options struct {
	// Alpha scales the LinUCB exploration bonus. Zero means DefaultAlpha
	// (0.5). Values below zero or above MaxAlpha (5) are rejected; use a
	// tiny positive value such as 1e-9 for almost pure exploitation.
	Alpha float64
	// MinImpressions is the cold-start threshold: an offer with fewer
	// impressions ranks ahead of learned offers, by Priority, so every new
	// offer gets data. Zero means DefaultMinImpressions (20); a negative
	// value turns cold start off.
	MinImpressions int
	// State persists weights and supplies impression totals; nil keeps
	// everything in memory for the life of the process.
	State State
	// IsNotFound reports whether a GetState error means the key is absent.
	// Nil treats only a nil value with a nil error as absent, so any error
	// from GetState fails NewPicker.
	IsNotFound func(error) bool
	// Now is the clock used when Context.Now is zero; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings about unreadable state; nil discards them.
	Logger *slog.Logger
}

// Candidate is one offer as the picker saw it on a turn.
type Candidate struct {
	ID       string  `json:"id"`
	Eligible bool    `json:"eligible"`
	Why      string  `json:"why"`             // reason it was excluded, or how it ranked
	Score    float64 `json:"score,omitempty"` // LinUCB upper confidence bound; zero when ineligible
}

// Decision is the result of Choose, recorded with the turn.
type Decision struct {
	Offer      *Offer      `json:"-"`
	OfferID    string      `json:"offer_id,omitempty"`
	Reason     string      `json:"reason"`
	Features   []float64   `json:"features,omitempty"` // pass back to Reward on a click or redemption
	Candidates []Candidate `json:"candidates"`
}

// Picker chooses at most one offer per turn with a disjoint LinUCB bandit
// over the eligible offers. It is safe for concurrent use.
type Picker struct {
	alpha          float64
	minImpressions int
	state          State
	isNotFound     func(error) bool
	now            func() time.Time
	logger         *slog.Logger

	// persistMu serialises snapshot-and-write sequences so an older
	// snapshot of an arm never overwrites a newer one. Lock order:
	// persistMu before mu.
	persistMu sync.Mutex

	// mu guards offers, arms, dirty, baseline and shown.
	mu       sync.Mutex
	offers   []Offer
	arms     map[string]*arm
	dirty    map[string]bool // arms changed since they were last persisted
	baseline map[string]int  // impression totals from State when last read
	shown    map[string]int  // impressions chosen by this process since then
}

// NewPicker returns a picker over offers, loading saved weights and
// impression totals from opts.State. It reads State with a background
// context because the signature has none.
func NewPicker(offers []Offer, opts Options) (*Picker, error) {
	p := &Picker{
		alpha:          cmp.Or(opts.Alpha, DefaultAlpha),
		minImpressions: cmp.Or(opts.MinImpressions, DefaultMinImpressions),
		state:          opts.State,
		isNotFound:     opts.IsNotFound,
		now:            opts.Now,
		logger:         opts.Logger,
		arms:           make(map[string]*arm),
		dirty:          make(map[string]bool),
		baseline:       make(map[string]int),
		shown:          make(map[string]int),
	}
	if opts.Now == nil {
		p.now = time.Now
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if opts.Alpha < 0 || opts.Alpha > MaxAlpha || math.IsNaN(opts.Alpha) {
		return nil, fmt.Errorf("%w: alpha %g outside [0, %g]", ErrInvalidOptions, opts.Alpha, MaxAlpha)
	}

	ctx := context.Background()
	arms := make(map[string]*arm, len(offers))
	for _, o := range offers {
		a, err := p.loadArm(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		arms[o.ID] = a
	}
	if p.state != nil {
		totals, err := p.state.OfferTotals(ctx)
		if err != nil {
			return nil, fmt.Errorf("load offer totals: %w", err)
		}
		p.baseline = totals
	}
	p.offers = slices.Clone(offers)
	p.arms = arms
	return p, nil
}

// SetOffers replaces the offer set. Learned weights are kept for ids that
// remain, weights for new ids are loaded from State, and impression totals
// are read again, so budgets count impressions stored since the last read.
// Failures to read State are logged and leave fresh weights or the previous
// totals in place.
func (p *Picker) SetOffers(offers []Offer) {
	ctx := context.Background()
	p.mu.Lock()
	known := make(map[string]*arm, len(p.arms))
	for id, a := range p.arms {
		known[id] = a
	}
	p.mu.Unlock()

	arms := make(map[string]*arm, len(offers))
	for _, o := range offers {
		if a, ok := known[o.ID]; ok {
			arms[o.ID] = a
			continue
		}
		a, err := p.loadArm(ctx, o.ID)
		if err != nil {
			p.logger.Warn("offer weights unreadable, starting fresh", "offer_id", o.ID, "err", err)
			a = newArm(FeatureDim)
		}
		arms[o.ID] = a
	}

	var totals map[string]int
	if p.state != nil {
		t, err := p.state.OfferTotals(ctx)
		if err != nil {
			p.logger.Warn("offer totals unreadable, keeping previous budgets", "err", err)
		} else {
			totals = t
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.offers = slices.Clone(offers)
	p.arms = arms
	if totals != nil {
		p.baseline = totals
		p.shown = make(map[string]int)
	}
}

// Choose picks at most one offer for the turn c. An offer is never chosen
// when it is outside its validity window at c.Now (or the picker's clock),
// over its budget, past CapPerUser according to c.Shown, or ineligible. The
// chosen offer counts as an impression at once: it uses budget and enters
// the offer's model with reward zero until Reward adds a click or
// redemption.
func (p *Picker) Choose(ctx context.Context, c Context) Decision {
	now := c.Now
	if now.IsZero() {
		now = p.now()
	}
	features := Features(c)
	x := mat.NewVecDense(FeatureDim, features)

	p.mu.Lock()
	defer p.mu.Unlock()

	d := Decision{Features: features, Candidates: make([]Candidate, 0, len(p.offers))}
	best := -1
	bestCold := false
	for i := range p.offers {
		o := &p.offers[i]
		cand := Candidate{ID: o.ID}
		if why := p.excludeLocked(o, &c, now); why != "" {
			cand.Why = why
			d.Candidates = append(d.Candidates, cand)
			continue
		}
		a := p.arms[o.ID]
		cand.Eligible = true
		cand.Score = a.score(x, p.alpha)
		cold := p.minImpressions > 0 && a.n < p.minImpressions
		if cold {
			cand.Why = fmt.Sprintf("cold start: %d of %d impressions, ranked by priority %d", a.n, p.minImpressions, o.Priority)
		} else {
			cand.Why = fmt.Sprintf("upper confidence bound %.4f", cand.Score)
		}
		d.Candidates = append(d.Candidates, cand)
		if best < 0 || p.better(o, cand.Score, cold, &p.offers[best], d.Candidates[best].Score, bestCold) {
			best, bestCold = len(d.Candidates)-1, cold
		}
	}
	if best < 0 {
		d.Reason = fmt.Sprintf("no eligible offer among %d", len(p.offers))
		return d
	}

	chosen := p.offers[best]
	d.Offer = &chosen
	d.OfferID = chosen.ID
	d.Reason = "chosen: " + d.Candidates[best].Why
	p.shown[chosen.ID]++
	p.arms[chosen.ID].observe(x)
	p.dirty[chosen.ID] = true
	return d
}

// excludeLocked returns why o may not be shown, or "" when it may.
func (p *Picker) excludeLocked(o *Offer, c *Context, now time.Time) string {
	if o.Budget > 0 {
		used := p.baseline[o.ID] + p.shown[o.ID]
		if used >= o.Budget {
			return fmt.Sprintf("budget spent: %d of %d impressions", used, o.Budget)
		}
	}
	return checkEligible(o, c, now)
}

// better reports whether offer o ranks above the current best: cold offers
// first by priority, then by upper confidence bound, with ties broken by
// priority and then id so the choice is deterministic.
func (p *Picker) better(o *Offer, score float64, cold bool, best *Offer, bestScore float64, bestCold bool) bool {
	if cold != bestCold {
		return cold
	}
	if !cold && score != bestScore {
		return score > bestScore
	}
	if o.Priority != best.Priority {
		return o.Priority > best.Priority
	}
	return o.ID < best.ID
}

// Reward teaches the chosen offer's model that the impression described by
// features (Decision.Features) earned reward, for example 1 for a click.
// Rewards for one impression add up, so a redemption after a click can add
// its own reward. The offer's weights are then written to State.
func (p *Picker) Reward(ctx context.Context, offerID string, features []float64, reward float64) error {
	if len(features) != FeatureDim {
		return fmt.Errorf("reward offer %s: %w: length %d, expected %d", offerID, ErrInvalidFeatures, len(features), FeatureDim)
	}
	if math.IsNaN(reward) || math.IsInf(reward, 0) || slices.ContainsFunc(features, notFinite) {
		return fmt.Errorf("reward offer %s: %w: reward %g or a feature is not finite", offerID, ErrInvalidFeatures, reward)
	}
	x := mat.NewVecDense(FeatureDim, slices.Clone(features))

	p.persistMu.Lock()
	defer p.persistMu.Unlock()

	p.mu.Lock()
	a, ok := p.arms[offerID]
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("reward offer %s: %w", offerID, ErrUnknownOffer)
	}
	a.reward(x, reward)
	if p.state == nil {
		p.mu.Unlock()
		return nil
	}
	snapshot := a.state()
	delete(p.dirty, offerID)
	p.mu.Unlock()

	return p.saveArm(ctx, offerID, snapshot)
}

// Flush writes the weights of every offer chosen since its last write, so
// impressions without a reward survive a restart. Call it on shutdown.
func (p *Picker) Flush(ctx context.Context) error {
	p.persistMu.Lock()
	defer p.persistMu.Unlock()

	p.mu.Lock()
	snapshots := make(map[string]armState, len(p.dirty))
	for id := range p.dirty {
		if a, ok := p.arms[id]; ok {
			snapshots[id] = a.state()
		}
	}
	clear(p.dirty)
	p.mu.Unlock()

	var errs []error
	for id, s := range snapshots {
		errs = append(errs, p.saveArm(ctx, id, s))
	}
	return errors.Join(errs...)
}

func notFinite(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
