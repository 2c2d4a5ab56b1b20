package retrieval

// Filter restricts a search before ranking. The zero value matches every
// product.
type Filter struct {
	MinPrice    float64  `json:"min_price,omitempty"` // zero means no lower bound
	MaxPrice    float64  `json:"max_price,omitempty"` // zero means no upper bound
	InStockOnly bool     `json:"in_stock_only,omitempty"`
	Categories  []string `json:"categories,omitempty"` // any of, matched case-insensitively against the category path
	Brands      []string `json:"brands,omitempty"`
	Colors      []string `json:"colors,omitempty"`
}

// Query is one search request.
type Query struct {
	Text   string
	Limit  int // results wanted; values above the catalog size are clamped
	Filter Filter
	// Budget is the shopper's last stated upper price bound, in major
	// units, such as one kept in their profile; zero means none. It is a
	// soft preference: when neither Filter nor Text sets a maximum price,
	// the ranked products priced at or under Budget come first, each group
	// in relevance order, and pricier or unpriced products follow instead
	// of being removed. A bound stated in the current message replaces it.
	Budget float64
}

// Hit is one ranked product with the scores behind its rank.
type Hit struct {
	Product      Product `json:"product"`
	Score        float64 `json:"score"`         // fused score, higher is better
	KeywordScore float64 `json:"keyword_score"` // BM25; zero when the product had no keyword match
	// VectorScore is the cosine similarity of the query and product
	// vectors, weighted by the catalog's idf for the local embedder.
	VectorScore float64 `json:"vector_score"`
}

// Result is the outcome of Search.
type Result struct {
	Hits []Hit `json:"hits"`
	// Filter is the filter that was applied: the query's own merged with the
	// constraints parsed from the text.
	Filter Filter `json:"filter"`
	// Relaxed reports that the filter matched nothing, so Hits holds the
	// nearest matches without it.
	Relaxed bool `json:"relaxed,omitempty"`
	// Budget is the Query.Budget that ordered the hits, and zero when the
	// query had none or stated its own maximum price.
	Budget float64 `json:"budget,omitempty"`
}
