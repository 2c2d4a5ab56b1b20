package bot

import (
	"testing"
)

func TestStatedCurrency(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"想给妈妈买个200元以内的生日礼物", "CNY"},
		{"不超过300块", "CNY"},
		{"under ¥88", "CNY"},
		{"boots under $150", "USD"},
		{"less than 80 dollars", "USD"},
		{"unter 50 €", "EUR"},
		{"under 100", ""},
	}
	for _, tt := range tests {
		if got := statedCurrency(tt.text); got != tt.want {
			t.Errorf("statedCurrency(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestPriceFilterConvertsToCatalogCurrency(t *testing.T) {
	te := newTestEngine(t, nil, func(o *Options) {
		o.CurrencyRates = map[string]float64{"USD": 1, "CNY": 8}
	})
	if cur := te.catalogCurrency(); cur != "USD" {
		t.Fatalf("catalog currency = %q, want USD for the test catalog", cur)
	}
	tests := []struct {
		name    string
		text    string
		wantMax float64
	}{
		{"yuan_bound", "200元以内的礼物", 25},
		{"dollar_bound_kept_as_written", "boots under $150", 0},
		{"no_currency", "under 100", 0},
		{"no_bound", "红色的围巾", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := te.priceFilter(tt.text).MaxPrice; got != tt.wantMax {
				t.Errorf("priceFilter(%q).MaxPrice = %g, want %g", tt.text, got, tt.wantMax)
			}
		})
	}
}

func TestPriceFilterWithoutRates(t *testing.T) {
	te := newTestEngine(t, nil, nil)
	if got := te.priceFilter("200元以内").MaxPrice; got != 0 {
		t.Errorf("MaxPrice without rates = %g, want 0 (bound left as written)", got)
	}
}
