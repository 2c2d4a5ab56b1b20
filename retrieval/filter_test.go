package retrieval

import (
	"slices"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		min, max float64
		inStock  bool
		colors   []string
	}{
		{"under", "running shoes under 100", 0, 100, false, nil},
		{"below_dollar", "a gift below $50", 0, 50, false, nil},
		{"less_than", "less than 80 dollars", 0, 80, false, nil},
		{"between", "boots between 50 and 80", 50, 80, false, nil},
		{"dash_dollars", "50-80 dollars headphones", 50, 80, false, nil},
		{"over", "watches over $200", 200, 0, false, nil},
		{"around", "around 50 bucks", 40, 60, false, nil},
		{"zh_within", "100元以内的耳机", 0, 100, false, nil},
		{"zh_not_over", "不超过300块", 0, 300, false, nil},
		{"zh_below", "200块以下", 0, 200, false, nil},
		{"zh_range", "50到80元的杯子", 50, 80, false, nil},
		{"zh_around", "300元左右的礼物", 240, 360, false, nil},
		{"zh_above", "500元以上", 500, 0, false, nil},
		{"in_stock", "red scarf in stock", 0, 0, true, []string{"red"}},
		{"zh_in_stock_color", "有货的黑色靴子", 0, 0, true, []string{"black"}},
		{"nothing", "coffee mug", 0, 0, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ParseFilter(tt.text)
			if f.MinPrice != tt.min || f.MaxPrice != tt.max {
				t.Errorf("ParseFilter(%q) price = [%v, %v], want [%v, %v]", tt.text, f.MinPrice, f.MaxPrice, tt.min, tt.max)
			}
			if f.InStockOnly != tt.inStock {
				t.Errorf("ParseFilter(%q) in stock = %v, want %v", tt.text, f.InStockOnly, tt.inStock)
			}
			if !slices.Equal(f.Colors, tt.colors) {
				t.Errorf("ParseFilter(%q) colors = %v, want %v", tt.text, f.Colors, tt.colors)
			}
		})
	}
}

func TestParseFilterRemovesPriceWords(t *testing.T) {
	_, rest := parseFilterText("hiking boots under $100 in stock")
	if rest != "hiking boots" {
		t.Errorf("keyword text = %q, want %q", rest, "hiking boots")
	}
	_, rest = parseFilterText("耳机300元以内")
	if rest != "耳机" {
		t.Errorf("keyword text = %q, want %q", rest, "耳机")
	}
}
