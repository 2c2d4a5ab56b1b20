package offer

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		name              string
		successes, trials int
		value, low, high  float64
	}{
		{"half", 5, 10, 0.5, 0.2366, 0.7634},
		{"zero", 0, 10, 0, 0, 0.2775},
		{"all", 10, 10, 1, 0.7225, 1},
		{"no_trials", 0, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wilson(tt.successes, tt.trials)
			if math.Abs(r.Value-tt.value) > 1e-4 || math.Abs(r.Low-tt.low) > 1e-4 || math.Abs(r.High-tt.high) > 1e-4 {
				t.Errorf("wilson(%d, %d) = %+v, expected %g [%g, %g]", tt.successes, tt.trials, r, tt.value, tt.low, tt.high)
			}
		})
	}
}

func TestTwoProportionP(t *testing.T) {
	// 60/100 against 40/100: pooled p = 0.5, z = 0.2 / sqrt(0.25 * 0.02) = 2.828.
	p := twoProportionP(60, 100, 40, 100)
	if p == nil || math.Abs(*p-0.004678) > 1e-5 {
		t.Errorf("p-value = %v, expected 0.004678", p)
	}
	if p := twoProportionP(5, 100, 5, 100); p == nil || *p != 1 {
		t.Errorf("p-value for equal rates = %v, expected 1", p)
	}
	if p := twoProportionP(0, 0, 5, 100); p != nil {
		t.Errorf("p-value without trials = %v, expected nil", *p)
	}
}

func reportRows() []ReportRow {
	return []ReportRow{
		{Variant: "none", OfferID: "welcome10", Conversations: 500, Impressions: 1000, Clicks: 40, Redemptions: 10, Conversions: 30, Revenue: 3000},
		{Variant: "none", Conversations: 500},
		{Variant: "full", OfferID: "welcome10", Conversations: 400, Impressions: 800, Clicks: 60, Redemptions: 20, Conversions: 45, Revenue: 5000},
		{Variant: "full", OfferID: "gift_wrap", Conversations: 600, Impressions: 1200, Clicks: 90, Redemptions: 25, Conversions: 60, Revenue: 7000},
	}
}

func TestReportSums(t *testing.T) {
	r := Report(reportRows(), ReportOptions{Experiment: "personalization", Control: "none"})
	if len(r.Variants) != 2 || r.Variants[0].Name != "full" || r.Variants[1].Name != "none" {
		t.Fatalf("variants = %+v, expected full and none", r.Variants)
	}
	full, none := r.Variants[0], r.Variants[1]
	if full.Impressions != 2000 || full.Clicks != 150 || full.Conversations != 1000 || full.Conversions != 105 || full.Revenue != 12000 {
		t.Errorf("full totals = %+v", full)
	}
	if none.Conversations != 1000 || none.Impressions != 1000 {
		t.Errorf("none totals = %+v", none)
	}
	if math.Abs(full.CTR.Value-0.075) > 1e-12 || math.Abs(full.RevenuePerConversation-12) > 1e-12 {
		t.Errorf("full CTR %g and revenue per conversation %g, expected 0.075 and 12", full.CTR.Value, full.RevenuePerConversation)
	}
	if none.CTRPValue != nil {
		t.Error("control has a p-value against itself")
	}
	if full.CTRPValue == nil || *full.CTRPValue > 0.001 {
		t.Errorf("CTR p-value 7.5%% vs 4%% over 2000 and 1000 impressions = %v, expected < 0.001", full.CTRPValue)
	}
	if full.ConversionPValue == nil {
		t.Error("missing conversion p-value")
	}
	if len(r.Offers) != 2 || r.Offers[1].Name != "welcome10" || r.Offers[1].Impressions != 1800 {
		t.Errorf("offers = %+v, expected gift_wrap and welcome10 with 1800 impressions", r.Offers)
	}
}

func TestReportNoise(t *testing.T) {
	exact := Report(reportRows(), ReportOptions{Control: "none"})
	a := Report(reportRows(), ReportOptions{Control: "none", Epsilon: 0.5, Seed: 42})
	b := Report(reportRows(), ReportOptions{Control: "none", Epsilon: 0.5, Seed: 42})
	if a.Epsilon != 0.5 {
		t.Errorf("Epsilon = %g on the report, expected 0.5", a.Epsilon)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Error("same seed gave different noisy reports")
	}
	changed := false
	for i, v := range a.Variants {
		e := exact.Variants[i]
		if v.Impressions != e.Impressions || v.Clicks != e.Clicks || v.Conversations != e.Conversations {
			changed = true
		}
		if v.Clicks > v.Impressions || v.Conversions > v.Conversations || v.Clicks < 0 {
			t.Errorf("noisy counts inconsistent: %+v", v)
		}
		// Laplace(2) noise exceeds 40 with probability e^-20.
		if math.Abs(float64(v.Impressions-e.Impressions)) > 40 {
			t.Errorf("noise moved impressions from %d to %d", e.Impressions, v.Impressions)
		}
	}
	if !changed {
		t.Error("epsilon 0.5 left every count unchanged")
	}
}

func TestLaplaceScale(t *testing.T) {
	rng := newTestRand(9)
	const n = 20000
	sumAbs := 0.0
	for range n {
		sumAbs += math.Abs(laplace(rng, 2))
	}
	// The mean absolute value of Laplace(b) is b.
	if mean := sumAbs / n; math.Abs(mean-2) > 0.1 {
		t.Errorf("mean |noise| = %g, expected about 2", mean)
	}
}

func TestReportWriteText(t *testing.T) {
	r := Report(reportRows(), ReportOptions{Experiment: "personalization", Control: "none", Epsilon: 1, Seed: 1})
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	out := buf.String()
	for _, want := range []string{"experiment: personalization", "control: none", "epsilon=1", "variant", "gift_wrap", "ctr [95% CI]"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}
