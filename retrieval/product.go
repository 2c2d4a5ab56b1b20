package retrieval

// Product is one catalog entry as the index stores it. Prices are in major
// units of Currency (19.99 means 19.99 USD); zero means unknown.
type Product struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Category    string   `json:"category,omitempty"` // path joined with " > "
	Brand       string   `json:"brand,omitempty"`
	Color       string   `json:"color,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Price       float64  `json:"price"`
	// CompareAtPrice is the price before a discount; zero when there is none.
	CompareAtPrice float64 `json:"compare_at_price,omitempty"`
	Currency       string  `json:"currency,omitempty"` // ISO 4217, such as USD or CNY
	InStock        bool    `json:"in_stock"`
	Image          string  `json:"image,omitempty"`
	URL            string  `json:"url,omitempty"`
	// Localized holds the title and description in other languages, keyed
	// by language ("zh", "en"); search indexes them with the main text.
	Localized map[string]LocalText `json:"localized,omitempty"`
}

// LocalText is a product's title and description in one language.
type LocalText struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Category is the category path in this language, for display; filters
	// and the catalog's own Category stay in the catalog's language.
	Category string `json:"category,omitempty"`
}

// TitleIn returns the product's title in lang, or the main title when the
// catalog has no translation.
func (p Product) TitleIn(lang string) string {
	if t, ok := p.Localized[lang]; ok && t.Title != "" {
		return t.Title
	}
	return p.Title
}
