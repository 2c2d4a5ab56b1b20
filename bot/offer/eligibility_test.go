package offer

import (
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/scenario"
)

func ptr[T any](v T) *T { return &v }

func TestCheckEligible(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	base := Context{
		UserID:     "u1",
		Scenario:   scenario.Scenario{Label: "gift_shopping", Intent: scenario.Prediction{Label: "gift"}},
		Segment:    "Big Spenders",
		Categories: []string{"Home & Garden > Kitchen > Knives"},
		CartValue:  120,
		Country:    "CN",
		Device:     "mobile",
		PageKind:   "product",
	}
	tests := []struct {
		name    string
		offer   Offer
		edit    func(c *Context)
		wantWhy string // empty means eligible
	}{
		{"no_conditions", Offer{ID: "a"}, nil, ""},
		{"expired", Offer{ID: "a", End: now}, nil, "outside validity window"},
		{"not_started", Offer{ID: "a", Start: now.Add(time.Minute)}, nil, "outside validity window"},
		{"cap_reached", Offer{ID: "a", CapPerUser: 2}, func(c *Context) { c.Shown = map[string]int{"a": 2} }, "cap 2"},
		{"cap_not_reached", Offer{ID: "a", CapPerUser: 2}, func(c *Context) { c.Shown = map[string]int{"a": 1} }, ""},
		{"scenario_match", Offer{ID: "a", Eligibility: Eligibility{Scenarios: []string{"gift_shopping"}}}, nil, ""},
		{"scenario_mismatch", Offer{ID: "a", Eligibility: Eligibility{Scenarios: []string{"comparison"}}}, nil, "scenario"},
		{"intent_mismatch", Offer{ID: "a", Eligibility: Eligibility{Intents: []string{"price"}}}, nil, "intent"},
		{"segment_ignores_case", Offer{ID: "a", Eligibility: Eligibility{Segments: []string{"big spenders"}}}, nil, ""},
		{"segment_missing", Offer{ID: "a", Eligibility: Eligibility{Segments: []string{"x"}}}, func(c *Context) { c.Segment = "" }, "segment"},
		{"category_prefix", Offer{ID: "a", Eligibility: Eligibility{Categories: []string{"home & garden>kitchen"}}}, nil, ""},
		{"category_partial_word", Offer{ID: "a", Eligibility: Eligibility{Categories: []string{"Home & Garden > Kit"}}}, nil, "categories"},
		{"min_cart_met", Offer{ID: "a", Eligibility: Eligibility{MinCart: 120}}, nil, ""},
		{"min_cart_missed", Offer{ID: "a", Eligibility: Eligibility{MinCart: 120.01}}, nil, "below minimum"},
		{"new_user_only", Offer{ID: "a", Eligibility: Eligibility{NewUser: ptr(true)}}, nil, "only for new users"},
		{"returning_only", Offer{ID: "a", Eligibility: Eligibility{NewUser: ptr(false)}}, func(c *Context) { c.NewUser = true }, "only for returning users"},
		{"abandoned_cart", Offer{ID: "a", Eligibility: Eligibility{AbandonedCart: ptr(true)}}, func(c *Context) { c.Scenario.Behavior.AbandonedCart = true }, ""},
		{"no_abandoned_cart", Offer{ID: "a", Eligibility: Eligibility{AbandonedCart: ptr(true)}}, nil, "abandoned cart"},
		{"country", Offer{ID: "a", Eligibility: Eligibility{Countries: []string{"US"}}}, nil, "country"},
		{"device", Offer{ID: "a", Eligibility: Eligibility{Devices: []string{"desktop"}}}, nil, "device"},
		{"page_kind", Offer{ID: "a", Eligibility: Eligibility{PageKinds: []string{"cart"}}}, nil, "page kind"},
		{"complaint_blocks_generic", Offer{ID: "a"}, func(c *Context) { c.Scenario.Label = "complaint" }, "scenario complaint"},
		{"after_sales_blocks_generic", Offer{ID: "a"}, func(c *Context) { c.Scenario.Label = "after_sales" }, "scenario after_sales"},
		{"refund_intent_blocks_generic", Offer{ID: "a"}, func(c *Context) { c.Scenario.Intent.Label = "return_refund" }, "intent return_refund"},
		{
			"complaint_allows_named",
			Offer{ID: "a", Eligibility: Eligibility{Scenarios: []string{"complaint"}}},
			func(c *Context) { c.Scenario.Label = "complaint"; c.Scenario.Intent.Label = "complaint" },
			"",
		},
		{
			"complaint_intent_needs_naming",
			Offer{ID: "a", Eligibility: Eligibility{Scenarios: []string{"complaint"}}},
			func(c *Context) { c.Scenario.Label = "browsing"; c.Scenario.Intent.Label = "complaint" },
			"intent complaint",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			if tt.edit != nil {
				tt.edit(&c)
			}
			why := checkEligible(&tt.offer, &c, now)
			if tt.wantWhy == "" && why != "" {
				t.Errorf("checkEligible = %q, expected eligible", why)
			}
			if tt.wantWhy != "" && !strings.Contains(why, tt.wantWhy) {
				t.Errorf("checkEligible = %q, expected a reason containing %q", why, tt.wantWhy)
			}
		})
	}
}
