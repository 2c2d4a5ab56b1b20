package retrieval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Format names a catalog file format that Import reads.
type Format string

// Catalog formats.
const (
	FormatShopify Format = "shopify" // Shopify product CSV export
	FormatJSONL   Format = "jsonl"   // JSON Lines, one product object a line
	FormatCSV     Format = "csv"     // generic comma-separated values with a header
	FormatTSV     Format = "tsv"     // generic tab-separated values with a header
	FormatGMCTSV  Format = "gmc-tsv" // Google Merchant Center tab-separated feed
	FormatGMCXML  Format = "gmc-xml" // Google Merchant Center RSS 2.0 or Atom feed
)

// Formats lists every format Import accepts, for help text.
var Formats = []Format{FormatShopify, FormatJSONL, FormatCSV, FormatTSV, FormatGMCTSV, FormatGMCXML}

// ErrFormat is returned by Import when the input is not of the stated or
// detected format, or when the format name is unknown.
var ErrFormat = errors.New("unrecognized catalog format")

// RowError reports one rejected row of an import; Import skips the row and
// goes on with the rest.
type RowError struct {
	Line   int    // 1-based line where the row starts
	Reason string // what is wrong, such as "missing title"
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ImportOptions configures Import.
type ImportOptions struct {
	// Format of the input. Empty means detect it from the content and the
	// file name.
	Format Format
	// Mapping maps our field names (the Product JSON names: id, title,
	// description, category, brand, color, tags, price, compare_at_price,
	// currency, in_stock, image, url) to the input's column or key names,
	// for the generic CSV, TSV and JSON Lines formats. Fields it leaves out
	// are read from columns of their own name.
	Mapping map[string]string
	// IncludeDrafts keeps Shopify products that are drafts, archived or
	// unpublished; by default they are skipped.
	IncludeDrafts bool
	// DefaultCurrency is the ISO 4217 code used when a price names no
	// currency. Empty means "USD".
	DefaultCurrency string
}

// ImportResult is the outcome of Import.
type ImportResult struct {
	Products []Product
	Errors   []RowError // rejected rows, in input order
	Format   Format     // the format read, as stated or detected
}

// Import reads a catalog file. name is the file name, used for format
// detection and error messages. Rows that cannot be imported are reported in
// ImportResult.Errors and skipped. Import returns an error only when the
// input as a whole cannot be read, such as a file of another format.
func Import(r io.Reader, name string, opts ImportOptions) (ImportResult, error) {
	if opts.DefaultCurrency == "" {
		opts.DefaultCurrency = "USD"
	}
	br := bufio.NewReaderSize(r, 64<<10)
	skipBOM(br)
	format := opts.Format
	if format == "" {
		var err error
		format, err = detectFormat(br, name)
		if err != nil {
			return ImportResult{}, fmt.Errorf("import %s: %w", name, err)
		}
	}
	var res ImportResult
	var err error
	switch format {
	case FormatShopify:
		res, err = importShopify(br, opts)
	case FormatGMCTSV:
		res, err = importGMCTSV(br, opts)
	case FormatGMCXML:
		res, err = importGMCXML(br, opts)
	case FormatCSV:
		res, err = importDelimited(br, ',', opts)
	case FormatTSV:
		res, err = importDelimited(br, '\t', opts)
	case FormatJSONL:
		res, err = importJSONL(br, opts)
	default:
		return ImportResult{}, fmt.Errorf("import %s: %w %q; use one of %v", name, ErrFormat, format, Formats)
	}
	res.Format = format
	if err != nil {
		return res, fmt.Errorf("import %s as %s: %w", name, format, err)
	}
	return res, nil
}

func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
}

// detectFormat guesses the format from the first bytes and the file name.
func detectFormat(br *bufio.Reader, name string) (Format, error) {
	head, _ := br.Peek(64 << 10)
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return "", fmt.Errorf("%w: the file is empty", ErrFormat)
	}
	switch trimmed[0] {
	case '<':
		return FormatGMCXML, nil
	case '{':
		return FormatJSONL, nil
	}
	line := trimmed
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	cols := headerSet(string(line))
	switch {
	case cols["handle"] && cols["title"] && (cols["body (html)"] || cols["variant price"]):
		return FormatShopify, nil
	case bytes.IndexByte(line, '\t') >= 0 && cols["id"] && cols["title"] && hasGMCColumn(cols):
		return FormatGMCTSV, nil
	case bytes.IndexByte(line, '\t') >= 0:
		return FormatTSV, nil
	case bytes.IndexByte(line, ',') >= 0:
		return FormatCSV, nil
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tsv", ".txt":
		return FormatTSV, nil
	case ".csv":
		return FormatCSV, nil
	}
	return "", fmt.Errorf("%w: the first line is neither a CSV or TSV header, JSON nor XML; "+
		"pass the format explicitly (one of %v)", ErrFormat, Formats)
}

func headerSet(line string) map[string]bool {
	sep := ","
	if strings.Contains(line, "\t") {
		sep = "\t"
	}
	cols := map[string]bool{}
	for _, c := range strings.Split(strings.TrimRight(line, "\r"), sep) {
		cols[strings.ToLower(strings.Trim(strings.TrimSpace(c), `"`))] = true
	}
	return cols
}

func hasGMCColumn(cols map[string]bool) bool {
	for _, c := range []string{"availability", "image_link", "link", "product_type",
		"sale_price", "google_product_category", "condition", "gtin", "mpn"} {
		if cols[c] {
			return true
		}
	}
	return false
}

// ParseMapping reads a column mapping written as
// "id=product_id,title=product_name,price=discounted_price": pairs of our
// field name and the input's column name.
func ParseMapping(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		field, column, ok := strings.Cut(pair, "=")
		field, column = strings.TrimSpace(field), strings.TrimSpace(column)
		if !ok || field == "" || column == "" {
			return nil, fmt.Errorf("parse mapping: %q is not field=column", pair)
		}
		if !knownFields[field] {
			return nil, fmt.Errorf("parse mapping: unknown field %q; fields are %s", field, fieldList())
		}
		m[field] = column
	}
	return m, nil
}

// knownFields are the field names a mapping may set.
var knownFields = map[string]bool{
	"id": true, "title": true, "description": true, "category": true, "brand": true,
	"color": true, "tags": true, "price": true, "compare_at_price": true,
	"currency": true, "in_stock": true, "image": true, "url": true,
}

func fieldList() string {
	return "id, title, description, category, brand, color, tags, price, " +
		"compare_at_price, currency, in_stock, image, url"
}

// fieldAliases are column names read for a field when no mapping names one
// and no column has the field's own name.
var fieldAliases = map[string][]string{
	"id":               {"sku", "product_id", "handle"},
	"title":            {"name", "product_name", "product_title"},
	"description":      {"body", "body_html", "about_product"},
	"category":         {"product_type", "type"},
	"brand":            {"vendor"},
	"color":            {"colour"},
	"price":            {"sale_price", "discounted_price"},
	"compare_at_price": {"actual_price", "list_price", "original_price"},
	"image":            {"image_link", "image_url", "img_link"},
	"url":              {"link", "product_link", "product_url"},
	"in_stock":         {"availability", "available", "stock"},
}

// rowValues holds one input row by our field names.
type rowValues map[string]string

// productFromRow builds a product from field values, or returns the reason
// it cannot.
func productFromRow(v rowValues, defaultCurrency string) (Product, string) {
	p := Product{
		ID:          strings.TrimSpace(v["id"]),
		Title:       collapseSpace(v["title"]),
		Description: plainText(v["description"]),
		Category:    categoryPath(v["category"]),
		Brand:       strings.TrimSpace(v["brand"]),
		Color:       strings.TrimSpace(v["color"]),
		Tags:        splitTags(v["tags"]),
		Image:       strings.TrimSpace(v["image"]),
		URL:         strings.TrimSpace(v["url"]),
		InStock:     true,
	}
	if p.ID == "" {
		return p, "missing id"
	}
	if p.Title == "" {
		return p, "missing title"
	}
	var reason string
	p.Price, p.Currency, reason = priceField("price", v["price"], "")
	if reason != "" {
		return p, reason
	}
	p.CompareAtPrice, _, reason = priceField("compare_at_price", v["compare_at_price"], p.Currency)
	if reason != "" {
		return p, reason
	}
	if c := strings.TrimSpace(v["currency"]); c != "" {
		p.Currency = strings.ToUpper(c)
	}
	if p.Currency == "" {
		p.Currency = defaultCurrency
	}
	if s := strings.TrimSpace(v["in_stock"]); s != "" {
		in, ok := parseAvailability(s)
		if !ok {
			return p, fmt.Sprintf("invalid in_stock %q", s)
		}
		p.InStock = in
	}
	if p.CompareAtPrice <= p.Price {
		p.CompareAtPrice = 0
	}
	return p, ""
}

func priceField(field, s, currency string) (float64, string, string) {
	if strings.TrimSpace(s) == "" {
		return 0, currency, ""
	}
	amount, cur, err := ParsePrice(s)
	if err != nil {
		return 0, "", fmt.Sprintf("invalid %s %q", field, s)
	}
	if cur == "" {
		cur = currency
	}
	return amount, cur, ""
}

// parseAvailability reads a stock flag: a boolean word, a Merchant Center
// availability value or a quantity.
func parseAvailability(s string) (inStock bool, ok bool) {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", " ")) {
	case "true", "yes", "y", "1", "in stock", "instock", "available", "limited availability", "有货", "现货":
		return true, true
	case "false", "no", "n", "0", "out of stock", "outofstock", "sold out", "discontinued",
		"preorder", "pre-order", "backorder", "无货", "缺货":
		return false, true
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return n > 0, true
	}
	return false, false
}

// categoryPath turns "a|b|c" or "a/b" style paths into "a > b > c".
func categoryPath(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, ">") {
		return collapseSpace(s)
	}
	for _, sep := range []string{"|", " / "} {
		if strings.Contains(s, sep) {
			parts := strings.Split(s, sep)
			var kept []string
			for _, p := range parts {
				if p = strings.TrimSpace(p); p != "" {
					kept = append(kept, p)
				}
			}
			return strings.Join(kept, " > ")
		}
	}
	return collapseSpace(s)
}

func splitTags(s string) []string {
	var tags []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || r == ';' }) {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
