package offer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/scenario"
)

var testNow = time.Date(2026, 11, 5, 20, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// randomPick returns no condition three times in four, and otherwise about
// half of list.
func randomPick(rng *rand.Rand, list []string) []string {
	if rng.IntN(4) != 0 {
		return nil
	}
	var out []string
	for _, v := range list {
		if rng.IntN(2) == 0 {
			out = append(out, v)
		}
	}
	return out
}

func randomOffer(rng *rand.Rand, i int) Offer {
	o := Offer{
		ID:         fmt.Sprintf("o%d", i),
		Title:      map[string]string{"en": "t"},
		Kind:       KindGift,
		Priority:   rng.IntN(5),
		CapPerUser: rng.IntN(3),
		Budget:     rng.IntN(4) * 5,
	}
	if rng.IntN(3) == 0 {
		o.Start = testNow.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
	}
	if rng.IntN(3) == 0 {
		o.End = testNow.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
	}
	e := &o.Eligibility
	e.Scenarios = randomPick(rng, scenarioLabels)
	e.Intents = randomPick(rng, intentLabels)
	e.Devices = randomPick(rng, deviceNames)
	e.PageKinds = randomPick(rng, pageKindNames)
	e.Segments = randomPick(rng, []string{"a", "b", "c"})
	e.Countries = randomPick(rng, []string{"CN", "US"})
	e.Categories = randomPick(rng, []string{"Home", "Home > Kitchen", "Toys"})
	if rng.IntN(3) == 0 {
		e.MinCart = float64(rng.IntN(200))
	}
	if rng.IntN(3) == 0 {
		e.NewUser = ptr(rng.IntN(2) == 0)
	}
	if rng.IntN(4) == 0 {
		e.AbandonedCart = ptr(rng.IntN(2) == 0)
	}
	return o
}

func randomContext(rng *rand.Rand, offers []Offer) Context {
	one := func(list []string) string { return list[rng.IntN(len(list))] }
	c := Context{
		UserID: fmt.Sprintf("u%d", rng.IntN(20)),
		Scenario: scenario.Scenario{
			Label:    one(scenarioLabels),
			Intent:   scenario.Prediction{Label: one(intentLabels)},
			Weekend:  rng.IntN(2) == 0,
			Behavior: scenario.Behavior{AbandonedCart: rng.IntN(2) == 0},
		},
		Segment:    one([]string{"", "a", "b", "c"}),
		Categories: []string{one([]string{"Home > Kitchen > Pans", "Home", "Toys > Lego", "Garden"})},
		CartValue:  float64(rng.IntN(250)),
		NewUser:    rng.IntN(2) == 0,
		Country:    one([]string{"", "CN", "US"}),
		Device:     one(deviceNames),
		PageKind:   one(pageKindNames),
		Shown:      map[string]int{},
	}
	for _, o := range offers {
		c.Shown[o.ID] = rng.IntN(3)
	}
	return c
}

// oracleEligible re-states the eligibility rules independently of
// checkEligible, so the property test does not check the code against itself.
func oracleEligible(o Offer, c Context, now time.Time) bool {
	if (!o.Start.IsZero() && now.Before(o.Start)) || (!o.End.IsZero() && !now.Before(o.End)) {
		return false
	}
	if o.CapPerUser > 0 && c.Shown[o.ID] >= o.CapPerUser {
		return false
	}
	e := o.Eligibility
	label, intent := c.Scenario.Label, c.Scenario.Intent.Label
	if label == "complaint" || label == "after_sales" || intent == "complaint" || intent == "return_refund" {
		namedLabel := (label == "complaint" || label == "after_sales") && slices.Contains(e.Scenarios, label)
		namedIntent := (intent == "complaint" || intent == "return_refund") && slices.Contains(e.Intents, intent)
		if !namedLabel && !namedIntent {
			return false
		}
	}
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !in(e.Scenarios, label) || !in(e.Intents, intent) || !in(e.Segments, c.Segment) ||
		!in(e.Countries, c.Country) || !in(e.Devices, c.Device) || !in(e.PageKinds, c.PageKind) {
		return false
	}
	if len(e.Categories) > 0 {
		ok := false
		for _, prefix := range e.Categories {
			for _, path := range c.Categories {
				if path == prefix || strings.HasPrefix(path, prefix+" > ") {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	if c.CartValue < e.MinCart {
		return false
	}
	if e.NewUser != nil && *e.NewUser != c.NewUser {
		return false
	}
	if e.AbandonedCart != nil && *e.AbandonedCart != c.Scenario.Behavior.AbandonedCart {
		return false
	}
	return true
}

func TestChooseProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	chosen, turns := 0, 0
	for iter := range 300 {
		offers := make([]Offer, 1+rng.IntN(8))
		for i := range offers {
			offers[i] = randomOffer(rng, i)
		}
		state := newMemoryState()
		for _, o := range offers {
			if o.Budget > 0 && rng.IntN(2) == 0 {
				state.totals[o.ID] = rng.IntN(o.Budget + 1)
			}
		}
		p, err := NewPicker(offers, Options{State: state, Now: fixedClock, MinImpressions: rng.IntN(4) - 1})
		if err != nil {
			t.Fatalf("iteration %d: NewPicker: %v", iter, err)
		}
		used := make(map[string]int)
		for id, n := range state.totals {
			used[id] = n
		}

		for turn := range 30 {
			c := randomContext(rng, offers)
			d := p.Choose(t.Context(), c)
			turns++

			hasEligible := false
			for _, o := range offers {
				if oracleEligible(o, c, testNow) && (o.Budget == 0 || used[o.ID] < o.Budget) {
					hasEligible = true
				}
			}
			if d.Offer == nil {
				if hasEligible {
					t.Fatalf("iteration %d turn %d: no offer chosen although one is eligible: %+v", iter, turn, d.Candidates)
				}
				continue
			}
			o := *d.Offer
			if !o.Active(testNow) {
				t.Fatalf("iteration %d turn %d: chose %s outside its window", iter, turn, o.ID)
			}
			if !oracleEligible(o, c, testNow) {
				t.Fatalf("iteration %d turn %d: chose ineligible %s for %+v", iter, turn, o.ID, c)
			}
			if o.CapPerUser > 0 && c.Shown[o.ID] >= o.CapPerUser {
				t.Fatalf("iteration %d turn %d: chose %s past cap %d", iter, turn, o.ID, o.CapPerUser)
			}
			if o.Budget > 0 && used[o.ID] >= o.Budget {
				t.Fatalf("iteration %d turn %d: chose %s over budget %d", iter, turn, o.ID, o.Budget)
			}
			used[o.ID]++
			chosen++

			eligible := 0
			for _, cand := range d.Candidates {
				if cand.Eligible {
					eligible++
				}
			}
			if d.OfferID != o.ID || eligible == 0 {
				t.Fatalf("iteration %d turn %d: decision %q with %d eligible candidates", iter, turn, d.OfferID, eligible)
			}
		}
	}
	// Guards against a generator so strict that no offer is ever chosen,
	// which would make the checks above pass without testing anything.
	if chosen < turns/10 {
		t.Errorf("an offer was chosen on %d of %d turns, expected at least 10%%", chosen, turns)
	}
	t.Logf("offer chosen on %d of %d turns", chosen, turns)
}

// memoryState is an in-memory State for tests that need many pickers fast.
type memoryState struct {
	mu     sync.Mutex
	values map[string][]byte
	totals map[string]int
}

func newMemoryState() *memoryState {
	return &memoryState{values: map[string][]byte{}, totals: map[string]int{}}
}

func (s *memoryState) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if !ok {
		return nil, nil
	}
	return slices.Clone(v), nil
}

func (s *memoryState) PutState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = slices.Clone(value)
	return nil
}

func (s *memoryState) OfferTotals(context.Context) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.totals))
	for k, v := range s.totals {
		out[k] = v
	}
	return out, nil
}

func giftContext(user string) Context {
	return Context{
		UserID:   user,
		Scenario: scenario.Scenario{Label: "gift_shopping", Intent: scenario.Prediction{Label: "gift"}},
		Device:   "mobile",
		PageKind: "product",
	}
}

func TestPickerSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	offers := []Offer{{ID: "a"}, {ID: "b"}}
	opts := Options{IsNotFound: isStateNotFound, Now: fixedClock, MinImpressions: -1}
	rng := rand.New(rand.NewPCG(1, 2))
	probe := vec(Features(giftContext("probe")))

	// First process: learn, flush the impressions, close the file.
	state := openBoltState(t, path)
	opts.State = state
	p1, err := NewPicker(offers, opts)
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	for range 50 {
		c := randomContext(rng, offers)
		c.Scenario.Label, c.Scenario.Intent.Label = "browsing", "product_search"
		d := p1.Choose(t.Context(), c)
		if d.Offer != nil && rng.IntN(3) == 0 {
			if err := p1.Reward(t.Context(), d.OfferID, d.Features, 1); err != nil {
				t.Fatalf("Reward: %v", err)
			}
		}
	}
	if err := p1.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := state.db.Close(); err != nil {
		t.Fatalf("close bbolt: %v", err)
	}

	// Second process: a new picker over the reopened file.
	opts.State = openBoltState(t, path)
	p2, err := NewPicker(offers, opts)
	if err != nil {
		t.Fatalf("NewPicker after restart: %v", err)
	}
	fresh := newArm(FeatureDim).score(probe, DefaultAlpha)
	for _, id := range []string{"a", "b"} {
		before, after := p1.arms[id].score(probe, DefaultAlpha), p2.arms[id].score(probe, DefaultAlpha)
		if math.Abs(before-after) > 1e-12 {
			t.Errorf("offer %s score %v before restart, %v after", id, before, after)
		}
		if after == fresh {
			t.Errorf("offer %s has an untrained score after restart", id)
		}
		if p1.arms[id].n != p2.arms[id].n {
			t.Errorf("offer %s impressions %d before restart, %d after", id, p1.arms[id].n, p2.arms[id].n)
		}
	}
	if total := p2.arms["a"].n + p2.arms["b"].n; total != 50 {
		t.Errorf("restored impressions = %d, expected 50", total)
	}
}

func TestPickerLoadErrors(t *testing.T) {
	state := newBoltState(t)
	_, err := NewPicker([]Offer{{ID: "a"}}, Options{State: state})
	if !errors.Is(err, errStateNotFound) {
		t.Errorf("NewPicker without IsNotFound = %v, expected the store's not-found error", err)
	}

	if err := state.PutState(t.Context(), stateKey("a"), []byte(`{"version":1,"features":3}`)); err != nil {
		t.Fatalf("PutState: %v", err)
	}
	p, err := NewPicker([]Offer{{ID: "a"}}, Options{State: state, IsNotFound: isStateNotFound})
	if err != nil {
		t.Fatalf("NewPicker over weights from another layout: %v", err)
	}
	if p.arms["a"].n != 0 {
		t.Errorf("weights from another layout were loaded: n = %d", p.arms["a"].n)
	}
}

func TestPickerBudgetCountsStoredTotals(t *testing.T) {
	state := newBoltState(t)
	state.setTotal(t, "a", 9)
	offers := []Offer{{ID: "a", Budget: 10, Priority: 5}, {ID: "b", Priority: 1}}
	p, err := NewPicker(offers, Options{State: state, IsNotFound: isStateNotFound, Now: fixedClock})
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	if d := p.Choose(t.Context(), giftContext("u")); d.OfferID != "a" {
		t.Fatalf("first choice = %q (%s), expected a with one impression of budget left", d.OfferID, d.Reason)
	}
	d := p.Choose(t.Context(), giftContext("u"))
	if d.OfferID != "b" {
		t.Errorf("second choice = %q, expected b once a's budget is spent", d.OfferID)
	}
	if !strings.Contains(d.Candidates[0].Why, "budget spent: 10 of 10") {
		t.Errorf("candidate a why = %q, expected budget spent", d.Candidates[0].Why)
	}
}

func TestPickerColdStartUsesPriority(t *testing.T) {
	offers := []Offer{{ID: "low", Priority: 1}, {ID: "high", Priority: 9}}
	p, err := NewPicker(offers, Options{Now: fixedClock, MinImpressions: 3})
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	var got []string
	for range 6 {
		got = append(got, p.Choose(t.Context(), giftContext("u")).OfferID)
	}
	want := []string{"high", "high", "high", "low", "low", "low"}
	if !slices.Equal(got, want) {
		t.Errorf("choices = %v, expected %v", got, want)
	}
}

func TestPickerLearnsFromRewards(t *testing.T) {
	offers := []Offer{{ID: "a", Priority: 9}, {ID: "b", Priority: 1}}
	p, err := NewPicker(offers, Options{Now: fixedClock, MinImpressions: -1, Alpha: 0.1})
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	gift, browse := giftContext("u"), giftContext("u")
	browse.Scenario.Label = "browsing"

	// Shoppers in gift mode click b, browsers click a.
	counts := map[string]int{}
	for i := range 400 {
		c := gift
		if i%2 == 1 {
			c = browse
		}
		d := p.Choose(t.Context(), c)
		clicked := (c.Scenario.Label == "gift_shopping") == (d.OfferID == "b")
		if clicked {
			if err := p.Reward(t.Context(), d.OfferID, d.Features, 1); err != nil {
				t.Fatalf("Reward: %v", err)
			}
		}
		if i >= 300 {
			counts[c.Scenario.Label+"/"+d.OfferID]++
		}
	}
	if counts["gift_shopping/b"] < 45 || counts["browsing/a"] < 45 {
		t.Errorf("last 100 choices %v, expected b for gift shoppers and a for browsers", counts)
	}
}

func TestPickerOptionsAndRewardErrors(t *testing.T) {
	for _, alpha := range []float64{-0.1, MaxAlpha + 1, math.NaN()} {
		if _, err := NewPicker(nil, Options{Alpha: alpha}); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewPicker(alpha %g) = %v, expected ErrInvalidOptions", alpha, err)
		}
	}

	p, err := NewPicker([]Offer{{ID: "a"}}, Options{Now: fixedClock})
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	x := Features(giftContext("u"))
	tests := []struct {
		name     string
		offerID  string
		features []float64
		reward   float64
		want     error
	}{
		{"unknown_offer", "zzz", x, 1, ErrUnknownOffer},
		{"short_features", "a", x[:3], 1, ErrInvalidFeatures},
		{"nan_reward", "a", x, math.NaN(), ErrInvalidFeatures},
		{"inf_feature", "a", append(slices.Clone(x[:len(x)-1]), math.Inf(1)), 1, ErrInvalidFeatures},
		{"valid", "a", x, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Reward(t.Context(), tt.offerID, tt.features, tt.reward)
			if !errors.Is(err, tt.want) {
				t.Errorf("Reward = %v, expected %v", err, tt.want)
			}
		})
	}
}

func TestSetOffersKeepsWeights(t *testing.T) {
	p, err := NewPicker([]Offer{{ID: "a"}, {ID: "b"}}, Options{Now: fixedClock, MinImpressions: -1})
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	for range 5 {
		p.Choose(t.Context(), giftContext("u"))
	}
	armA := p.arms["a"]

	p.SetOffers([]Offer{{ID: "a", Priority: 3}, {ID: "c"}})
	if p.arms["a"] != armA {
		t.Error("offer a lost its learned model on reload")
	}
	if _, ok := p.arms["b"]; ok {
		t.Error("removed offer b still has a model")
	}
	if p.arms["c"] == nil || p.arms["c"].n != 0 {
		t.Error("new offer c does not start fresh")
	}
	if p.offers[0].Priority != 3 {
		t.Errorf("offer a priority = %d after reload, expected 3", p.offers[0].Priority)
	}
	d := p.Choose(t.Context(), giftContext("u"))
	if d.OfferID != "a" && d.OfferID != "c" {
		t.Errorf("chose %q after reload, expected a or c", d.OfferID)
	}
}

func TestPickerConcurrentBudget(t *testing.T) {
	p, err := NewPicker([]Offer{{ID: "a", Budget: 50}}, Options{Now: fixedClock})
	if err != nil {
		t.Fatalf("NewPicker: %v", err)
	}
	var mu sync.Mutex
	shown := 0
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 20 {
				d := p.Choose(context.Background(), giftContext(fmt.Sprint("u", w)))
				if d.Offer == nil {
					continue
				}
				mu.Lock()
				shown++
				mu.Unlock()
				if err := p.Reward(context.Background(), d.OfferID, d.Features, 1); err != nil {
					t.Errorf("Reward: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if shown != 50 {
		t.Errorf("shown %d times, expected exactly the budget of 50", shown)
	}
}

func TestFeaturesLayout(t *testing.T) {
	c := giftContext("u")
	c.Segment = "vip"
	c.NewUser = true
	c.Scenario.Festival = &scenario.Festival{ID: "singles_day"}
	c.Scenario.TimeOfDay = "evening"
	x := Features(c)
	if len(x) != FeatureDim {
		t.Fatalf("len = %d, expected %d", len(x), FeatureDim)
	}
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	// scenario, intent, segment, time, page, device, new user, festival, bias
	if sum != 9 {
		t.Errorf("active features = %g, expected 9: %v", sum, x)
	}
	checks := map[string]int{
		"scenario": scenarioOffset + slices.Index(scenarioLabels, "gift_shopping"),
		"intent":   intentOffset + slices.Index(intentLabels, "gift"),
		"evening":  timeOffset + 2,
		"festival": festivalIndex,
		"new_user": newUserIndex,
		"bias":     biasIndex,
	}
	for name, i := range checks {
		if x[i] != 1 {
			t.Errorf("feature %s (index %d) = %g, expected 1", name, i, x[i])
		}
	}

	unknown := Features(Context{Now: time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC), Scenario: scenario.Scenario{Label: "new_label"}})
	if unknown[scenarioOffset+len(scenarioLabels)] != 1 {
		t.Error("unknown scenario label does not use the other slot")
	}
	if unknown[timeOffset+3] != 1 {
		t.Error("03:00 without a time-of-day label is not night")
	}
}
