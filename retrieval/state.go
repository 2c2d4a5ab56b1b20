package retrieval

import (
	"strings"
)

// state is an immutable snapshot of the catalog and everything derived from
// it. Writers build a new state aside and swap the pointer, so searches
// never wait for a write.
type state struct {
	products []Product // sorted by ID
	byID     map[string]int
	keywords *keywordIndex
	vectors  *vectorMatrix
	// Lowercased fields for filtering, one entry per product.
	category []string
	brand    []string
	// colorText holds the colour field, title and tags, so a colour filter
	// also matches a "Red Wool Scarf" whose Color field is empty.
	colorText []string
}

func newState(products []Product, vecs *vectorMatrix) *state {
	s := &state{
		products:  products,
		byID:      make(map[string]int, len(products)),
		keywords:  buildKeywordIndex(products),
		vectors:   vecs,
		category:  make([]string, len(products)),
		brand:     make([]string, len(products)),
		colorText: make([]string, len(products)),
	}
	for i := range products {
		p := &products[i]
		s.byID[p.ID] = i
		s.category[i] = strings.ToLower(p.Category)
		s.brand[i] = strings.ToLower(p.Brand)
		s.colorText[i] = " " + strings.Join(colorTokens(p.Color+" "+p.Title+" "+strings.Join(p.Tags, " ")), " ") + " "
	}
	return s
}

// colorTokens returns the canonical colour names found in s.
func colorTokens(s string) []string {
	return findColors(s)
}

// matches reports whether product i passes f.
func (s *state) matches(i int, f *Filter) bool {
	p := &s.products[i]
	if f.MinPrice > 0 && p.Price < f.MinPrice {
		return false
	}
	if f.MaxPrice > 0 && (p.Price > f.MaxPrice || p.Price == 0) {
		return false
	}
	if f.InStockOnly && !p.InStock {
		return false
	}
	if len(f.Categories) > 0 && !containsAny(s.category[i], f.Categories) {
		return false
	}
	if len(f.Brands) > 0 && !equalsAny(s.brand[i], f.Brands) {
		return false
	}
	if len(f.Colors) > 0 && !s.hasColor(i, f.Colors) {
		return false
	}
	return true
}

func (s *state) hasColor(i int, colors []string) bool {
	for _, c := range colors {
		name := strings.ToLower(c)
		if canon, ok := colorWords[name]; ok {
			name = canon
		}
		if strings.Contains(s.colorText[i], " "+name+" ") {
			return true
		}
	}
	return false
}

func containsAny(field string, wants []string) bool {
	for _, w := range wants {
		if w != "" && strings.Contains(field, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

func equalsAny(field string, wants []string) bool {
	for _, w := range wants {
		if strings.EqualFold(field, w) {
			return true
		}
	}
	return false
}

// embeddingText is the text the embedder sees for a product.
func embeddingText(p *Product) string {
	var b strings.Builder
	b.WriteString(p.Title)
	for _, lang := range sortedKeys(p.Localized) {
		b.WriteString(". ")
		b.WriteString(p.Localized[lang].Title)
	}
	for _, s := range []string{p.Brand, p.Category, strings.Join(p.Tags, ", "), p.Color,
		truncateRunes(p.Description, maxDescriptionRunes)} {
		if s != "" {
			b.WriteString(". ")
			b.WriteString(s)
		}
	}
	for _, lang := range sortedKeys(p.Localized) {
		if d := p.Localized[lang].Description; d != "" {
			b.WriteString(". ")
			b.WriteString(truncateRunes(d, maxDescriptionRunes))
		}
	}
	return b.String()
}
