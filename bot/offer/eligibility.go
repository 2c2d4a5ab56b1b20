package offer

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// sensitiveScenarios are scenario labels in which an offer is shown only when
// its eligibility names the label. A coupon pushed at a shopper who is
// complaining or waiting on a return reads as dismissive, so those turns get
// no promotion unless an operator wrote an offer for exactly that case (for
// example a goodwill free-shipping offer).
var sensitiveScenarios = []string{"complaint", "after_sales"}

// sensitiveIntents apply the same opt-in rule to the message's intent: an
// offer passes when it names either the sensitive label or the sensitive intent.
var sensitiveIntents = []string{"complaint", "return_refund"}

// checkEligible returns an empty string when o may be shown on the turn c at
// now, or the first reason it may not. It does not check budgets, which need
// the picker's counters.
func checkEligible(o *Offer, c *Context, now time.Time) string {
	if !o.Active(now) {
		return "outside validity window"
	}
	if o.CapPerUser > 0 && c.Shown[o.ID] >= o.CapPerUser {
		return fmt.Sprintf("shown %d times to this user, cap %d", c.Shown[o.ID], o.CapPerUser)
	}

	e := &o.Eligibility
	label := c.Scenario.Label
	intent := c.Scenario.Intent.Label
	if why := checkSensitive(e, label, intent); why != "" {
		return why
	}

	checks := []struct {
		field string
		list  []string
		value string
	}{
		{"scenario", e.Scenarios, label},
		{"intent", e.Intents, intent},
		{"segment", e.Segments, c.Segment},
		{"country", e.Countries, c.Country},
		{"device", e.Devices, c.Device},
		{"page kind", e.PageKinds, c.PageKind},
	}
	for _, ch := range checks {
		if len(ch.list) > 0 && !containsFold(ch.list, ch.value) {
			return fmt.Sprintf("%s %q not in %v", ch.field, ch.value, ch.list)
		}
	}

	if len(e.Categories) > 0 && !matchesCategory(e.Categories, c.Categories) {
		return fmt.Sprintf("no product in categories %v", e.Categories)
	}
	if c.CartValue < e.MinCart {
		return fmt.Sprintf("cart value %.2f below minimum %.2f", c.CartValue, e.MinCart)
	}
	if e.NewUser != nil && *e.NewUser != c.NewUser {
		if *e.NewUser {
			return "only for new users"
		}
		return "only for returning users"
	}
	if e.AbandonedCart != nil && *e.AbandonedCart != c.Scenario.Behavior.AbandonedCart {
		if *e.AbandonedCart {
			return "only after an abandoned cart"
		}
		return "not after an abandoned cart"
	}
	return ""
}

// checkSensitive passes a complaint or after-sales turn only for an offer
// that names the turn's sensitive scenario label or sensitive intent.
func checkSensitive(e *Eligibility, label, intent string) string {
	sensitiveLabel := slices.Contains(sensitiveScenarios, label)
	sensitiveIntent := slices.Contains(sensitiveIntents, intent)
	if !sensitiveLabel && !sensitiveIntent {
		return ""
	}
	if sensitiveLabel && slices.Contains(e.Scenarios, label) {
		return ""
	}
	if sensitiveIntent && slices.Contains(e.Intents, intent) {
		return ""
	}
	if sensitiveLabel {
		return "scenario " + label + " gets only offers that name it"
	}
	return "intent " + intent + " gets only offers that name it"
}

func containsFold(list []string, v string) bool {
	if v == "" {
		return false
	}
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// matchesCategory reports whether any product path starts with any prefix at
// a path-segment boundary, so "Home" matches "Home > Kitchen" but not
// "Homeware". Comparison ignores case and spaces around the " > " separator.
func matchesCategory(prefixes, paths []string) bool {
	for _, path := range paths {
		p := normalizeCategory(path)
		for _, prefix := range prefixes {
			q := normalizeCategory(prefix)
			if p == q || strings.HasPrefix(p, q+">") {
				return true
			}
		}
	}
	return false
}

func normalizeCategory(path string) string {
	parts := strings.Split(path, ">")
	for i, part := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(part))
	}
	return strings.Join(parts, ">")
}
