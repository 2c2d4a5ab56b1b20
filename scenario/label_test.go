package scenario

import (
	"slices"
	"testing"
	"time"
)

func TestLabelRules(t *testing.T) {
	prediction := func(label string, confidence float64) Prediction {
		return Prediction{Label: label, Confidence: confidence}
	}
	christmas := &Festival{ID: "christmas", Name: "Christmas", DaysLeft: 5}
	tests := []struct {
		name       string
		s          Scenario
		text       string
		want       string
		wantReason string
	}{
		{name: "human_first", s: Scenario{Intent: prediction("human", 0.9), Emotion: prediction("angry", 0.9)},
			text: "get me a person now", want: LabelHumanHandoff, wantReason: "intent human (0.90)"},
		{name: "angry_search_is_complaint", s: Scenario{Intent: prediction("product_search", 0.6), Emotion: prediction("angry", 0.7)},
			text: "where are the damn boots", want: LabelComplaint, wantReason: "emotion angry (0.70)"},
		{name: "mildly_angry_search", s: Scenario{Intent: prediction("product_search", 0.6), Emotion: prediction("angry", 0.4)},
			text: "boots", want: LabelBrowsing},
		{name: "refund_after_sales", s: Scenario{Intent: prediction("return_refund", 0.8)},
			text: "refund please", want: LabelAfterSales},
		{name: "shipping_after_purchase", s: Scenario{Intent: prediction("shipping", 0.8), Behavior: Behavior{Purchases: 2}},
			text: "which courier do you use", want: LabelAfterSales},
		{name: "urgent_search", s: Scenario{Intent: prediction("product_search", 0.8)},
			text: "need a charger today", want: LabelUrgentNeed, wantReason: `urgency cue "today"`},
		{name: "urgent_shipping_after_purchase", s: Scenario{Intent: prediction("shipping", 0.8), Behavior: Behavior{Purchases: 1}},
			text: "can it come tomorrow", want: LabelUrgentNeed},
		{name: "anxious_search", s: Scenario{Intent: prediction("product_search", 0.8), Emotion: prediction("anxious", 0.6)},
			text: "hope you have rain boots", want: LabelUrgentNeed},
		{name: "chitchat_cue_not_urgent", s: Scenario{Intent: prediction("chitchat", 0.8)},
			text: "what's the weather today", want: LabelBrowsing},
		{name: "chitchat_cue_not_urgent_zh", s: Scenario{Intent: prediction("chitchat", 0.8)},
			text: "今天天气怎么样", want: LabelBrowsing},
		{name: "cue_needs_whole_word", s: Scenario{Intent: prediction("product_search", 0.8)},
			text: "an expressive painting", want: LabelBrowsing},
		{name: "gift_intent", s: Scenario{Intent: prediction("gift", 0.8)},
			text: "present for dad", want: LabelGiftShopping},
		{name: "gift_season_search", s: Scenario{Intent: prediction("product_search", 0.8), Festival: christmas},
			text: "warm scarves", want: LabelGiftShopping, wantReason: "Christmas in 5 days"},
		{name: "comparison", s: Scenario{Intent: prediction("comparison", 0.8)},
			text: "a or b", want: LabelComparison},
		{name: "price_bargain", s: Scenario{Intent: prediction("price", 0.8)},
			text: "any coupon", want: LabelBargainHunting},
		{name: "bargain_segment", s: Scenario{Intent: prediction("greeting", 0.8), Segment: "bargain hunters"},
			text: "hi", want: LabelBargainHunting, wantReason: "segment bargain hunters"},
		{name: "festival_greeting", s: Scenario{Intent: prediction("greeting", 0.8), Festival: christmas},
			text: "hello", want: LabelFestivalShopping},
		{name: "neutral_not_listed", s: Scenario{Intent: prediction("greeting", 0.8), Emotion: prediction("neutral", 0.9)},
			text: "hello", want: LabelBrowsing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.TimeOfDay = "morning"
			got, reasons := label(tc.s, tc.text, "UTC", nil)
			if got != tc.want {
				t.Errorf("label = %s, want %s (reasons %q)", got, tc.want, reasons)
			}
			if tc.wantReason != "" && !slices.Contains(reasons, tc.wantReason) {
				t.Errorf("reasons = %q, want %q among them", reasons, tc.wantReason)
			}
			if slices.ContainsFunc(reasons, func(r string) bool { return r == "emotion neutral (0.90)" }) {
				t.Errorf("reasons = %q, want no reason for a neutral emotion", reasons)
			}
		})
	}
}

func TestDetectEmotionAlwaysTrained(t *testing.T) {
	d := newTestDetector(t)
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	for _, text := range []string{"waterproof boots under $150", "?!", "ok", "42"} {
		s := d.Detect(Input{Now: now, Text: text})
		if !slices.Contains([]string{"positive", "neutral", "negative", "angry", "anxious"}, s.Emotion.Label) {
			t.Errorf("emotion of %q = %+v, want one of the five trained emotions", text, s.Emotion)
		}
		if s.Emotion.Confidence <= 0 || s.Emotion.Confidence > 1 {
			t.Errorf("emotion confidence of %q = %v, want within (0, 1]", text, s.Emotion.Confidence)
		}
	}
}

func TestPredictOrFallsBack(t *testing.T) {
	d := newTestDetector(t)
	// A threshold above any probability makes every emotion unsure.
	got, top := d.emotion.predictOr("the parcel is late again", EmotionNeutral, 1.1)
	if got.Label != EmotionNeutral {
		t.Errorf("predictOr label = %s, want neutral", got.Label)
	}
	if top.Confidence < got.Confidence {
		t.Errorf("top confidence %v below the fallback's %v", top.Confidence, got.Confidence)
	}
	probs := d.emotion.Probabilities("the parcel is late again")
	i := slices.Index(d.emotion.Labels(), EmotionNeutral)
	if got.Confidence != probs[i] {
		t.Errorf("neutral confidence = %v, want its probability %v", got.Confidence, probs[i])
	}
}
