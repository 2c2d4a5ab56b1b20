package retrieval

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// shopifyProduct collects the rows of one Handle.
type shopifyProduct struct {
	line      int
	product   Product
	draft     bool
	colorOpt  int // 1-based option number named Color or Colour, 0 if none
	colors    []string
	anyStock  bool
	sawStock  bool
	sawPrice  bool
	rowReason string
}

// importShopify reads a Shopify product CSV export. Both the older header
// and the current one (with "Product Category" and "Status") are accepted.
// A product's first row carries its title and details; later rows with the
// same Handle add variants and images.
func importShopify(r io.Reader, opts ImportOptions) (ImportResult, error) {
	t, err := newTable(r, ',')
	if err != nil {
		return ImportResult{}, err
	}
	for _, need := range []string{"Handle", "Title"} {
		if !t.has(need) {
			return ImportResult{}, fmt.Errorf("%w: missing column %q, so this is not a Shopify product export "+
				"(header: %s); omit the format to detect it, or choose csv with a mapping",
				ErrFormat, need, strings.Join(t.header, ","))
		}
	}

	var res ImportResult
	byHandle := map[string]*shopifyProduct{}
	var order []*shopifyProduct
	for {
		rec, line, err := t.next()
		if err == io.EOF {
			break
		}
		var re RowError
		if errors.As(err, &re) {
			res.Errors = append(res.Errors, re)
			continue
		}
		if err != nil {
			return res, err
		}
		handle := strings.TrimSpace(t.get(rec, "Handle"))
		if handle == "" {
			res.Errors = append(res.Errors, RowError{Line: line, Reason: "missing handle"})
			continue
		}
		sp := byHandle[handle]
		if sp == nil {
			sp = newShopifyProduct(t, rec, line, handle, opts)
			if sp.rowReason != "" {
				res.Errors = append(res.Errors, RowError{Line: line, Reason: sp.rowReason})
				continue
			}
			byHandle[handle] = sp
			order = append(order, sp)
		}
		if reason := sp.addVariant(t, rec); reason != "" {
			res.Errors = append(res.Errors, RowError{Line: line, Reason: reason})
		}
	}

	for _, sp := range order {
		if sp.draft && !opts.IncludeDrafts {
			continue
		}
		if !sp.sawPrice {
			// A product without a price would be offered at zero.
			res.Errors = append(res.Errors, RowError{Line: sp.line,
				Reason: fmt.Sprintf("handle %q has no valid Variant Price; product skipped", sp.product.ID)})
			continue
		}
		p := sp.product
		p.Color = strings.Join(sp.colors, ", ")
		p.InStock = !sp.sawStock || sp.anyStock
		if p.CompareAtPrice <= p.Price {
			p.CompareAtPrice = 0
		}
		res.Products = append(res.Products, p)
	}
	slices.SortStableFunc(res.Errors, func(a, b RowError) int { return a.Line - b.Line })
	return res, nil
}

func newShopifyProduct(t *table, rec []string, line int, handle string, opts ImportOptions) *shopifyProduct {
	sp := &shopifyProduct{line: line}
	title := collapseSpace(t.get(rec, "Title"))
	if title == "" {
		sp.rowReason = fmt.Sprintf("missing title for the first row of handle %q", handle)
		return sp
	}
	category := strings.TrimSpace(t.get(rec, "Product Category"))
	if typ := strings.TrimSpace(t.get(rec, "Type")); typ != "" && !strings.HasSuffix(category, typ) {
		if category != "" {
			category += " > "
		}
		category += typ
	}
	sp.product = Product{
		ID:          handle,
		Title:       title,
		Description: plainText(t.get(rec, "Body (HTML)")),
		Category:    categoryPath(category),
		Brand:       strings.TrimSpace(t.get(rec, "Vendor")),
		Tags:        splitTags(t.get(rec, "Tags")),
		Currency:    opts.DefaultCurrency,
		URL:         "/products/" + handle,
	}
	published := strings.ToLower(strings.TrimSpace(t.get(rec, "Published")))
	status := strings.ToLower(strings.TrimSpace(t.get(rec, "Status")))
	sp.draft = published == "false" || status == "draft" || status == "archived"
	for n := 1; n <= 3; n++ {
		name := strings.ToLower(strings.TrimSpace(t.get(rec, "Option"+strconv.Itoa(n)+" Name")))
		if name == "color" || name == "colour" {
			sp.colorOpt = n
		}
	}
	return sp
}

// addVariant reads the variant, image and stock columns of one row.
func (sp *shopifyProduct) addVariant(t *table, rec []string) string {
	p := &sp.product
	if p.Image == "" {
		p.Image = strings.TrimSpace(t.get(rec, "Image Src"))
	}
	if p.Image == "" {
		p.Image = strings.TrimSpace(t.get(rec, "Variant Image"))
	}
	if sp.colorOpt > 0 {
		c := strings.TrimSpace(t.get(rec, "Option"+strconv.Itoa(sp.colorOpt)+" Value"))
		if c != "" && !containsFold(sp.colors, c) {
			sp.colors = append(sp.colors, c)
		}
	}
	priceText := strings.TrimSpace(t.get(rec, "Variant Price"))
	if priceText == "" {
		return "" // an image-only row
	}
	if !sp.sawPrice {
		amount, cur, err := ParsePrice(priceText)
		if err != nil {
			return fmt.Sprintf("invalid Variant Price %q", priceText)
		}
		sp.sawPrice = true
		p.Price = amount
		if cur != "" {
			p.Currency = cur
		}
		if cmpText := strings.TrimSpace(t.get(rec, "Variant Compare At Price")); cmpText != "" {
			amount, _, err := ParsePrice(cmpText)
			if err != nil {
				return fmt.Sprintf("invalid Variant Compare At Price %q", cmpText)
			}
			p.CompareAtPrice = amount
		}
	}
	sp.addStock(t, rec)
	return ""
}

// addStock records whether the variant can be bought. A variant whose
// inventory Shopify does not track, or that may be sold when out of stock
// (policy "continue"), is available; a tracked one needs a positive
// quantity.
func (sp *shopifyProduct) addStock(t *table, rec []string) {
	hasTracker, hasQty := t.has("Variant Inventory Tracker"), t.has("Variant Inventory Qty")
	if !hasTracker && !hasQty {
		return
	}
	sp.sawStock = true
	tracker := strings.TrimSpace(t.get(rec, "Variant Inventory Tracker"))
	policy := strings.ToLower(strings.TrimSpace(t.get(rec, "Variant Inventory Policy")))
	qty, err := strconv.ParseFloat(strings.TrimSpace(t.get(rec, "Variant Inventory Qty")), 64)
	switch {
	case hasTracker && tracker == "":
		sp.anyStock = true
	case policy == "continue":
		sp.anyStock = true
	case err == nil && qty > 0:
		sp.anyStock = true
	case err != nil && !hasQty:
		sp.anyStock = true
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
