package offer

import (
	"math/rand/v2"
	"testing"
	"time"
)

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func TestAttribute(t *testing.T) {
	t0 := time.Date(2026, 11, 11, 10, 0, 0, 0, time.UTC)
	imps := []Impression{
		{OfferID: "a", TurnID: "t1", Time: t0},
		{OfferID: "b", TurnID: "t2", Time: t0.Add(10 * time.Minute)},
		{OfferID: "a", TurnID: "t3", Time: t0.Add(20 * time.Minute)},
	}
	tests := []struct {
		name   string
		ev     Event
		window time.Duration
		offer  string
		turn   string
		ok     bool
	}{
		{"click_latest_of_offer", Event{Type: EventOfferClick, OfferID: "a", Time: t0.Add(25 * time.Minute)}, time.Hour, "a", "t3", true},
		{"click_names_other_offer", Event{Type: EventOfferClick, OfferID: "b", Time: t0.Add(25 * time.Minute)}, time.Hour, "b", "t2", true},
		{"purchase_latest_any", Event{Type: EventPurchase, Value: 99, Time: t0.Add(15 * time.Minute)}, time.Hour, "b", "t2", true},
		{"redeem_outside_window", Event{Type: EventOfferRedeem, OfferID: "b", Time: t0.Add(2 * time.Hour)}, time.Hour, "", "", false},
		{"window_edge_included", Event{Type: EventOfferRedeem, OfferID: "b", Time: t0.Add(70 * time.Minute)}, time.Hour, "b", "t2", true},
		{"before_any_impression", Event{Type: EventPurchase, Time: t0.Add(-time.Minute)}, time.Hour, "", "", false},
		{"unknown_offer", Event{Type: EventOfferClick, OfferID: "z", Time: t0.Add(time.Minute)}, time.Hour, "", "", false},
		{"other_event_type", Event{Type: "page_view", Time: t0.Add(time.Minute)}, time.Hour, "", "", false},
		{"zero_window", Event{Type: EventPurchase, Time: t0}, 0, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, turn, ok := Attribute(imps, tt.ev, tt.window)
			if offer != tt.offer || turn != tt.turn || ok != tt.ok {
				t.Errorf("Attribute = %q, %q, %v, expected %q, %q, %v", offer, turn, ok, tt.offer, tt.turn, tt.ok)
			}
		})
	}
}
