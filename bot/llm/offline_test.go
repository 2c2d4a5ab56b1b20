package llm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/concierge-chat/concierge/bot/llm"
)

var (
	mugs = []llm.ProductFact{
		{ID: "m1", Title: "Ceramic Mug", Price: 12.5, Currency: "USD", InStock: true, CompareAtPrice: 15},
		{ID: "m2", Title: "Steel Bottle", Price: 19.99, Currency: "USD"},
		{ID: "m3", Title: "Tea Set", Price: 49, Currency: "USD", InStock: true},
		{ID: "m4", Title: "Travel Flask", Price: 9, Currency: "USD", InStock: true},
	}
	cups = []llm.ProductFact{
		{ID: "c1", Title: "保温杯", Price: 199, Currency: "CNY", InStock: true},
		{ID: "c2", Title: "茶具套装", Price: 299.5, Currency: "CNY", InStock: true},
	}
	springOffer = &llm.OfferFact{Title: "Spring sale", Copy: "10% off all drinkware!", Code: "SPRING10"}
)

func TestCompose(t *testing.T) {
	tests := []struct {
		name    string
		facts   llm.Facts
		want    []string // substrings the reply must contain
		notWant []string // substrings it must not contain
		first   string   // prefix the reply must start with, if set
	}{
		{
			name:    "english_products_top_three",
			facts:   llm.Facts{Language: "en", Text: "mugs", Intent: "product_search", Products: mugs},
			want:    []string{"1. Ceramic Mug, $12.50 (was $15.00)", "2. Steel Bottle, $19.99, currently out of stock", "3. Tea Set, $49.00"},
			notWant: []string{"Travel Flask"},
		},
		{
			name: "relaxed_filter_says_nearest",
			facts: llm.Facts{Language: "en", Text: "mug under 5", Intent: "product_search",
				Products: mugs[:2], Relaxed: true, FilterDesc: "under $5"},
			want: []string{"Nothing matched under $5 exactly, so here are the closest options:"},
		},
		{
			name: "chinese_relaxed_with_offer",
			facts: llm.Facts{Language: "zh", Text: "100元以内的杯子", Intent: "product_search",
				Products: cups, Relaxed: true, FilterDesc: "100元以内",
				Offer: &llm.OfferFact{Title: "春季特惠", Copy: "杯具全场九折", Code: "SPRING10"}},
			want:    []string{"没有完全符合100元以内的商品", "1. 保温杯，¥199", "2. 茶具套装，¥299.50", "优惠：春季特惠。", "SPRING10"},
			notWant: []string{"$", "Offer"},
		},
		{
			name:  "offer_title_and_code",
			facts: llm.Facts{Language: "en", Text: "bottle", Intent: "product_search", Products: mugs[:1], Offer: springOffer},
			want:  []string{"Offer: Spring sale. 10% off all drinkware! Code: SPRING10."},
		},
		{
			name:  "angry_acknowledged_first",
			facts: llm.Facts{Language: "en", Text: "where is my parcel", Intent: "order_status", Emotion: "angry"},
			first: "I'm really sorry",
			want:  []string{"order number", "staff member"},
		},
		{
			name:  "anxious_chinese_acknowledged_first",
			facts: llm.Facts{Language: "zh", Text: "急用", Intent: "product_search", Emotion: "anxious", Products: cups},
			first: "别着急",
			want:  []string{"保温杯"},
		},
		{
			name:  "greeting_by_time_and_name",
			facts: llm.Facts{Language: "en", Text: "hi", Intent: "greeting", TimeOfDay: "evening", Name: "Ann", Returning: true},
			first: "Good evening, Ann, and welcome back!",
		},
		{
			name:  "chinese_morning_greeting_with_festival",
			facts: llm.Facts{Language: "zh", Text: "你好", Intent: "greeting", TimeOfDay: "morning", Festival: "双十一", FestivalDaysLeft: 3},
			first: "早上好！",
			want:  []string{"距离双十一还有3天"},
		},
		{
			name:  "festival_tomorrow_on_gift",
			facts: llm.Facts{Language: "en", Text: "gift for mum", Intent: "gift", Festival: "Mother's Day", FestivalDaysLeft: 1, Products: mugs},
			want:  []string{"Mother's Day is tomorrow", "gift"},
		},
		{
			name:    "far_festival_not_mentioned",
			facts:   llm.Facts{Language: "en", Text: "hello", Intent: "greeting", Festival: "Christmas", FestivalDaysLeft: 60},
			notWant: []string{"Christmas"},
		},
		{
			name:    "complaint_apologises_and_offers_human",
			facts:   llm.Facts{Language: "en", Text: "terrible service", Intent: "complaint", Products: mugs, Offer: springOffer},
			want:    []string{"sorry", "staff member"},
			notWant: []string{"Ceramic Mug", "SPRING10"},
		},
		{
			name:  "human_handoff",
			facts: llm.Facts{Language: "zh", Text: "转人工", Intent: "human"},
			want:  []string{"人工客服", "工作人员很快会加入"},
		},
		{
			name:  "return_refund_offers_human",
			facts: llm.Facts{Language: "en", Text: "refund please", Intent: "return_refund"},
			want:  []string{"sorry", "staff member"},
		},
		{
			name:  "out_of_scope_says_what_it_can_do",
			facts: llm.Facts{Language: "en", Text: "what's the weather", Intent: "oos"},
			want:  []string{"can't help with that", "find products"},
		},
		{
			name:  "comparison_names_cheaper",
			facts: llm.Facts{Language: "en", Text: "which is cheaper", Intent: "comparison", Products: mugs[:2]},
			want:  []string{"The Ceramic Mug costs $7.49 less than the Steel Bottle."},
		},
		{
			name:  "no_products_with_filter",
			facts: llm.Facts{Language: "en", Text: "tv under 5", Intent: "product_search", FilterDesc: "under $5"},
			want:  []string{"I couldn't find anything under $5."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := llm.Compose(tt.facts)
			if tt.first != "" && !strings.HasPrefix(got, tt.first) {
				t.Errorf("Compose(%s) = %q, want it to start with %q", tt.name, got, tt.first)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Compose(%s) = %q, want it to contain %q", tt.name, got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Compose(%s) = %q, want it without %q", tt.name, got, w)
				}
			}
			if again := llm.Compose(tt.facts); again != got {
				t.Errorf("Compose is not deterministic: %q then %q", got, again)
			}
		})
	}
}

func TestComposeVariesWithMessage(t *testing.T) {
	seen := map[string]bool{}
	for i := range 20 {
		f := llm.Facts{Language: "en", Text: fmt.Sprintf("show me mugs %d", i), Intent: "product_search", Products: mugs}
		seen[strings.SplitN(llm.Compose(f), "\n", 2)[0]] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 different messages gave %d distinct openings %v, want at least 2", len(seen), seen)
	}
}

func TestFormatPrice(t *testing.T) {
	tests := []struct {
		name     string
		amount   float64
		currency string
		want     string
	}{
		{"usd_cents", 19.99, "USD", "$19.99"},
		{"usd_lowercase_whole", 20, "usd", "$20.00"},
		{"cny_whole", 199, "CNY", "¥199"},
		{"cny_fraction", 199.5, "CNY", "¥199.50"},
		{"jpy", 1200, "JPY", "¥1200"},
		{"eur", 5.5, "EUR", "€5.50"},
		{"unknown_code_after", 12, "CHF", "12.00 CHF"},
		{"no_currency", 3, "", "3.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := llm.FormatPrice(tt.amount, tt.currency); got != tt.want {
				t.Errorf("FormatPrice(%v, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
			}
		})
	}
}

func TestOfflineStreamChunksOnRuneBoundaries(t *testing.T) {
	f := llm.Facts{Language: "zh", Text: "推荐杯子", Intent: "product_search", Products: cups, Emotion: "anxious"}
	var deltas []string
	resp, err := llm.Offline{ChunkRunes: 5}.Stream(t.Context(), f, func(s string) error {
		deltas = append(deltas, s)
		return nil
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if joined := strings.Join(deltas, ""); joined != resp.Text || joined != llm.Compose(f) {
		t.Errorf("joined deltas %q, Text %q, want both equal to Compose", joined, resp.Text)
	}
	for i, d := range deltas {
		if !utf8.ValidString(d) {
			t.Errorf("delta %d = %q is not valid UTF-8", i, d)
		}
		if n := utf8.RuneCountInString(d); n > 5 || (n < 5 && i != len(deltas)-1) {
			t.Errorf("delta %d has %d runes, want 5 except the last", i, n)
		}
	}
	if resp.Provider != "offline" || resp.Model != "rules" {
		t.Errorf("Provider, Model = %q, %q, want offline, rules", resp.Provider, resp.Model)
	}
	if resp.TokensOut <= 0 {
		t.Errorf("TokensOut = %d, want > 0", resp.TokensOut)
	}
}

func TestOfflineStreamStops(t *testing.T) {
	f := llm.Facts{Language: "en", Text: "mugs", Intent: "product_search", Products: mugs}
	errStop := errors.New("stop")

	t.Run("delta_error", func(t *testing.T) {
		calls := 0
		_, err := llm.Offline{}.Stream(t.Context(), f, func(string) error {
			calls++
			return errStop
		})
		if !errors.Is(err, errStop) || calls != 1 {
			t.Errorf("Stream error = %v after %d calls, want %v after 1", err, calls, errStop)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		_, err := llm.Offline{}.Stream(ctx, f, func(string) error {
			calls++
			cancel()
			return nil
		})
		if llm.Classify(err) != "canceled" || calls != 1 {
			t.Errorf("Stream error = %v after %d calls, want canceled after 1", err, calls)
		}
	})
}

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{name: "empty", text: "", want: 0},
		{name: "latin", text: "abcd efgh", want: 2},
		{name: "latin_rounds_up", text: "abcde", want: 2},
		{name: "cjk", text: "你好世界", want: 4},
		{name: "mixed", text: "买mug", want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := llm.EstimateTokens(tt.text); got != tt.want {
				t.Errorf("EstimateTokens(%q) = %d, want %d", tt.text, got, tt.want)
			}
		})
	}
}

func BenchmarkCompose(b *testing.B) {
	cases := []struct {
		name  string
		facts llm.Facts
	}{
		{name: "greeting", facts: llm.Facts{Language: "en", Text: "hi", Intent: "greeting", TimeOfDay: "morning"}},
		{name: "products=3", facts: llm.Facts{Language: "en", Text: "mugs", Intent: "product_search", Products: mugs[:3], Offer: springOffer}},
		{name: "products=3_zh", facts: llm.Facts{Language: "zh", Text: "杯子", Intent: "comparison", Products: cups, Relaxed: true, FilterDesc: "100元以内"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = llm.Compose(c.facts)
			}
		})
	}
}
