package retrieval

import (
	"strings"
)

// state is an immutable snapshot of the catalog and everything derived from
// it. Writers build a new state aside and swap the pointer, so searches
// never wait for a write.
type state struct {
	// products are in document order: sorted by ID after a full write,
	// in file order after Open, with products added by incremental writes
	// appended.
	// Products are shared between states and never modified: a write
	// replaces a changed product's pointer.
	products []*Product
	// order lists the documents sorted by product ID.
	order    []int32
	byID     map[string]int
	keywords *keywordIndex
	vectors  vectors
	cfg      *searchConfig
	// Lowercased fields for filtering, one entry per product.
	category []string
	brand    []string
	// colorBits and colorText describe the colours named in the colour
	// field, title and tags, so a colour filter also matches a "Red Wool
	// Scarf" whose Color field is empty. colorText is lowercased words
	// between spaces.
	colorBits []uint32
	colorText []string
	// changedSinceBuild counts the documents changed or added by
	// incremental writes since the last full build.
	changedSinceBuild int
}

// vectors are the catalog's product vectors in the form their embedder
// produces: sparse for the local embedder, dense otherwise. Both are nil
// for an empty catalog.
type vectors struct {
	dense *denseIndex
	// denseRows are the dense vectors of products changed or added since
	// the last full build. They replace the rows of dense, whose collection
	// still holds the old vectors of these products.
	denseRows map[int32][]float32
	sparse    *sparseIndex
}

// denseRow returns the current dense vector of product i. Callers must not
// modify it.
func (v vectors) denseRow(i int) []float32 {
	if row, ok := v.denseRows[int32(i)]; ok {
		return row
	}
	return v.dense.row(i)
}

// newState builds a state with products in the given document order.
func newState(products []Product, vecs vectors, cfg *searchConfig) *state {
	s := &state{
		products:  make([]*Product, len(products)),
		byID:      make(map[string]int, len(products)),
		keywords:  buildKeywordIndex(products, cfg),
		vectors:   vecs,
		cfg:       cfg,
		category:  make([]string, len(products)),
		brand:     make([]string, len(products)),
		colorBits: make([]uint32, len(products)),
		colorText: make([]string, len(products)),
	}
	for i := range products {
		s.products[i] = &products[i]
		s.byID[products[i].ID] = i
		s.setFilterFields(i)
	}
	s.order = sortedOrder(s.products)
	return s
}

// setFilterFields derives the filter fields of document i from its product.
func (s *state) setFilterFields(i int) {
	p := s.products[i]
	s.category[i] = strings.ToLower(p.Category)
	s.brand[i] = strings.ToLower(p.Brand)
	text := p.Color + " " + p.Title + " " + strings.Join(p.Tags, " ")
	s.colorBits[i] = 0
	for _, c := range findColors(text) {
		s.colorBits[i] |= colorBit(c)
	}
	var words []string
	splitRuns(p.Color+" "+strings.Join(p.Tags, " "), func(r textRun) { words = append(words, r.text) })
	s.colorText[i] = " " + strings.Join(words, " ") + " "
}

// compiledFilter is a Filter prepared for testing many products: names
// lowercased and known colours turned into a bit set.
type compiledFilter struct {
	f          *Filter
	categories []string
	brands     []string
	colorBits  uint32
	// otherColors are colour names outside colorWords, matched as words of
	// the colour text.
	otherColors []string
	zero        bool
}

func compileFilter(f *Filter) *compiledFilter {
	cf := &compiledFilter{f: f, zero: f.isZero()}
	for _, c := range f.Categories {
		if c != "" {
			cf.categories = append(cf.categories, strings.ToLower(c))
		}
	}
	for _, b := range f.Brands {
		cf.brands = append(cf.brands, strings.ToLower(b))
	}
	for _, c := range f.Colors {
		name := strings.ToLower(strings.TrimSpace(c))
		if canon, ok := colorWords[name]; ok {
			cf.colorBits |= colorBit(canon)
		} else if name != "" {
			cf.otherColors = append(cf.otherColors, " "+name+" ")
		}
	}
	return cf
}

// colorBit returns the bit of a canonical colour name.
func colorBit(canon string) uint32 {
	return 1 << colorIndex[canon]
}

// colorIndex numbers the canonical colour names.
var colorIndex = func() map[string]uint {
	m := map[string]uint{}
	for _, c := range colorWords {
		if _, ok := m[c]; !ok {
			m[c] = uint(len(m))
		}
	}
	return m
}()

// matches reports whether product i passes the filter.
func (s *state) matches(i int, cf *compiledFilter) bool {
	if cf.zero {
		return true
	}
	p := s.products[i]
	f := cf.f
	if f.MinPrice > 0 && p.Price < f.MinPrice {
		return false
	}
	if f.MaxPrice > 0 && (p.Price > f.MaxPrice || p.Price == 0) {
		return false
	}
	if f.InStockOnly && !p.InStock {
		return false
	}
	if len(cf.categories) > 0 && !containsAny(s.category[i], cf.categories) {
		return false
	}
	if len(cf.brands) > 0 && !equalsAny(s.brand[i], cf.brands) {
		return false
	}
	if cf.colorBits != 0 || len(cf.otherColors) > 0 {
		if s.colorBits[i]&cf.colorBits == 0 && !containsAny(s.colorText[i], cf.otherColors) {
			return false
		}
	}
	return true
}

func containsAny(field string, wants []string) bool {
	for _, w := range wants {
		if strings.Contains(field, w) {
			return true
		}
	}
	return false
}

func equalsAny(field string, wants []string) bool {
	for _, w := range wants {
		if field == w {
			return true
		}
	}
	return false
}

// embeddingText returns the text embedded for a product.
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
