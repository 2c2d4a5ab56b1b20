package retrieval

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// gmcNamespace is the XML namespace of Merchant Center attributes (g:id,
// g:price and so on).
const gmcNamespace = "http://base.google.com/ns/1.0"

// gmcRow holds one feed item by Merchant Center attribute name.
type gmcRow map[string]string

// product converts a Merchant Center item. A sale_price below price becomes
// the price, and price the compare-at price.
func (g gmcRow) product(currency string) (Product, string) {
	v := rowValues{
		"id":          g["id"],
		"title":       g["title"],
		"description": g["description"],
		"category":    firstNonEmpty(g["product_type"], g["google_product_category"]),
		"brand":       g["brand"],
		"color":       g["color"],
		"price":       g["price"],
		"image":       g["image_link"],
		"url":         g["link"],
		"in_stock":    g["availability"],
	}
	if sale := strings.TrimSpace(g["sale_price"]); sale != "" {
		v["price"], v["compare_at_price"] = sale, g["price"]
	}
	return productFromRow(v, currency)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func importGMCTSV(r io.Reader, opts ImportOptions) (ImportResult, error) {
	t, err := newTable(r, '\t')
	if err != nil {
		return ImportResult{}, err
	}
	for _, need := range []string{"id", "title"} {
		if !t.has(need) {
			return ImportResult{}, fmt.Errorf("%w: missing column %q, so this is not a Merchant Center "+
				"TSV feed (header: %s); omit the format to detect it, or choose tsv with a mapping",
				ErrFormat, need, strings.Join(t.header, ","))
		}
	}
	var res ImportResult
	seen := map[string]bool{}
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
		g := gmcRow{}
		for name, i := range t.col {
			if i < len(rec) {
				g[name] = rec[i]
			}
		}
		addGMC(&res, seen, g, line, opts.DefaultCurrency)
	}
	return res, nil
}

func addGMC(res *ImportResult, seen map[string]bool, g gmcRow, line int, currency string) {
	p, reason := g.product(currency)
	if reason != "" {
		res.Errors = append(res.Errors, RowError{Line: line, Reason: reason})
		return
	}
	if seen[p.ID] {
		res.Errors = append(res.Errors, RowError{Line: line, Reason: fmt.Sprintf("duplicate id %q", p.ID)})
		return
	}
	seen[p.ID] = true
	res.Products = append(res.Products, p)
}

// importGMCXML reads a Merchant Center RSS 2.0 feed (<rss><channel><item>)
// or Atom feed (<feed><entry>). Attributes come from elements in the g:
// namespace; plain <title>, <link> and <description> of the item are used
// when the g: form is missing.
func importGMCXML(r io.Reader, opts ImportOptions) (ImportResult, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	var res ImportResult
	seen := map[string]bool{}
	sawRoot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !sawRoot {
				return res, fmt.Errorf("%w: not XML: %w", ErrFormat, err)
			}
			line, _ := dec.InputPos()
			res.Errors = append(res.Errors, RowError{Line: line, Reason: "invalid XML: " + err.Error()})
			return res, nil
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !sawRoot {
			sawRoot = true
			if start.Name.Local != "rss" && start.Name.Local != "feed" {
				return res, fmt.Errorf("%w: root element <%s>, want <rss> or <feed> of a Merchant Center feed",
					ErrFormat, start.Name.Local)
			}
			continue
		}
		if start.Name.Local != "item" && start.Name.Local != "entry" {
			continue
		}
		line, _ := dec.InputPos()
		g, err := readGMCItem(dec, start)
		if err != nil {
			res.Errors = append(res.Errors, RowError{Line: line, Reason: "invalid XML: " + err.Error()})
			return res, nil
		}
		addGMC(&res, seen, g, line, opts.DefaultCurrency)
	}
	if !sawRoot {
		return res, fmt.Errorf("%w: no XML element found", ErrFormat)
	}
	return res, nil
}

// readGMCItem reads the child elements of one item up to its end tag.
func readGMCItem(dec *xml.Decoder, item xml.StartElement) (gmcRow, error) {
	g := gmcRow{}
	plain := gmcRow{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch el := tok.(type) {
		case xml.EndElement:
			if el.Name == item.Name {
				for k, v := range plain {
					if g[k] == "" {
						g[k] = v
					}
				}
				return g, nil
			}
		case xml.StartElement:
			var text string
			if err := dec.DecodeElement(&text, &el); err != nil {
				return nil, err
			}
			name := strings.ToLower(el.Name.Local)
			if name == "link" && text == "" {
				text = attr(el, "href") // Atom links carry the URL in href
			}
			if el.Name.Space == gmcNamespace || el.Name.Space == "g" {
				if g[name] == "" {
					g[name] = text
				}
			} else if plain[name] == "" {
				plain[name] = text
			}
		}
	}
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
