package bot

import (
	"context"
	"slices"
	"strings"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

// Page is the page a shopper is on.
type Page = scenario.Page

// Event is a commerce or UI event reported by a client.
type Event = memory.Event

// ProductQuery selects products for the demo store's grid.
type ProductQuery struct {
	Lang     string
	Text     string // search text; empty lists the catalog in order
	Category string // top-level category; empty means all
	Limit    int    // zero means 48
	Offset   int
}

// ProductList is a page of the catalog in one language.
type ProductList struct {
	Products   []ProductListing `json:"products"`
	Categories []string         `json:"categories"`
	// CategoryLabels gives each top-level category's name in the
	// requested language, where the catalog has one.
	CategoryLabels map[string]string `json:"category_labels"`
	Total          int               `json:"total"`
}

// ProductListing is a product as the demo store's grid shows it.
type ProductListing struct {
	ProductCard
	Description string `json:"description"`
	Category    string `json:"category"`
}

// ListProducts returns a page of the catalog with its top-level
// categories, in the catalog's order.
func (e *Engine) ListProducts(ctx context.Context, q ProductQuery) ProductList {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 48
	}
	all := e.opts.Catalog.Products()
	if strings.TrimSpace(q.Text) != "" {
		all = e.searchProducts(ctx, q.Text, all)
	}
	var cats []string
	list := ProductList{Products: []ProductListing{}, CategoryLabels: map[string]string{}}
	for _, p := range all {
		top, _, _ := strings.Cut(p.Category, " > ")
		if top != "" && !slices.Contains(cats, top) {
			cats = append(cats, top)
		}
		if local := p.Localized[q.Lang].Category; top != "" && local != "" {
			list.CategoryLabels[top], _, _ = strings.Cut(local, " > ")
		}
		if q.Category != "" && !strings.EqualFold(top, q.Category) {
			continue
		}
		list.Total++
		if list.Total <= q.Offset || len(list.Products) >= q.Limit {
			continue
		}
		category := p.Category
		if local := p.Localized[q.Lang].Category; local != "" {
			category = local
		}
		list.Products = append(list.Products, ProductListing{
			ProductCard: productCard(p, q.Lang),
			Description: descriptionIn(p, q.Lang), Category: category,
		})
	}
	slices.Sort(cats)
	list.Categories = cats
	if list.Categories == nil {
		list.Categories = []string{}
	}
	return list
}

// searchProducts returns the products that match text, best first, and
// keeps the whole catalog's categories for the category chips.
func (e *Engine) searchProducts(ctx context.Context, text string, all []retrieval.Product) []retrieval.Product {
	res, err := e.opts.Catalog.Search(ctx, retrieval.Query{Text: text, Limit: 60})
	if err != nil {
		e.log.Warn("product search failed", "error", err)
		return nil
	}
	out := make([]retrieval.Product, 0, len(res.Hits))
	for _, h := range res.Hits {
		if h.KeywordScore > 0 || h.VectorScore > 0.2 {
			out = append(out, h.Product)
		}
	}
	return out
}

// Product returns one product's card and its category path, both in lang
// where the catalog has a translation.
func (e *Engine) Product(id, lang string) (ProductCard, string, bool) {
	p, ok := e.opts.Catalog.Get(id)
	if !ok {
		return ProductCard{}, "", false
	}
	category := p.Category
	if local := p.Localized[lang].Category; local != "" {
		category = local
	}
	return productCard(p, lang), category, true
}

// OfferCard returns the card of a configured offer, for drawing its banner.
func (e *Engine) OfferCard(id, lang, scenarioLabel, festival string) (*OfferCard, bool) {
	if e.opts.Offers == nil {
		return nil, false
	}
	for _, o := range e.opts.Offers.Offers() {
		if o.ID == id {
			sc := scenario.Scenario{Label: scenarioLabel}
			if festival != "" {
				sc.Festival = &scenario.Festival{ID: festival}
			}
			return offerCard(o, lang, sc), true
		}
	}
	return nil, false
}
