package retrieval

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func importFile(t *testing.T, path string, opts ImportOptions) ImportResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	res, err := Import(f, filepath.Base(path), opts)
	if err != nil {
		t.Fatalf("Import(%s): %v", path, err)
	}
	return res
}

func byID(products []Product) map[string]Product {
	m := map[string]Product{}
	for _, p := range products {
		m[p.ID] = p
	}
	return m
}

func TestImportShopifyCurrentHeader(t *testing.T) {
	res := importFile(t, "testdata/shopify_current.csv", ImportOptions{})
	if res.Format != FormatShopify {
		t.Errorf("format = %q, want shopify", res.Format)
	}
	got := byID(res.Products)
	shirt, ok := got["linen-shirt"]
	if !ok {
		t.Fatalf("linen-shirt missing from %v", res.Products)
	}
	if want := "Breathable linen shirt for summer. 100% linen Relaxed fit"; shirt.Description != want {
		t.Errorf("description = %q, want %q", shirt.Description, want)
	}
	if shirt.Price != 45 || shirt.CompareAtPrice != 60 || shirt.Currency != "USD" {
		t.Errorf("price = %v/%v %s, want 45/60 USD", shirt.Price, shirt.CompareAtPrice, shirt.Currency)
	}
	if want := "Apparel & Accessories > Clothing > Shirts"; shirt.Category != want {
		t.Errorf("category = %q, want %q", shirt.Category, want)
	}
	if shirt.Color != "Sand, Olive" {
		t.Errorf("color = %q, want %q", shirt.Color, "Sand, Olive")
	}
	if !shirt.InStock {
		t.Error("linen-shirt in stock = false, want true (second variant has 3)")
	}
	if shirt.Image != "https://example.com/linen.jpg" || shirt.URL != "/products/linen-shirt" {
		t.Errorf("image, url = %q, %q", shirt.Image, shirt.URL)
	}
	if !slices.Equal(shirt.Tags, []string{"summer", "linen"}) || shirt.Brand != "Acme" {
		t.Errorf("tags, brand = %v, %q", shirt.Tags, shirt.Brand)
	}
	if got["sold-out-cap"].InStock {
		t.Error("sold-out-cap in stock = true, want false (tracked, 0, deny)")
	}
	if !got["backorder-mug"].InStock {
		t.Error("backorder-mug in stock = false, want true (policy continue)")
	}
	if got["backorder-mug"].Description != "Mug & saucer" {
		t.Errorf("entity not decoded: %q", got["backorder-mug"].Description)
	}
	if _, ok := got["draft-jeans"]; ok {
		t.Error("draft-jeans imported without IncludeDrafts")
	}

	// Line 8 has two errors: its price is invalid, and its product has no
	// other price, so it is skipped.
	wantErrs := []RowError{
		{Line: 6, Reason: "missing handle"},
		{Line: 7, Reason: "missing title"},
		{Line: 8, Reason: "invalid Variant Price"},
		{Line: 8, Reason: "no valid Variant Price; product skipped"},
	}
	if len(res.Errors) != len(wantErrs) {
		t.Fatalf("errors = %v, want %d", res.Errors, len(wantErrs))
	}
	for i, want := range wantErrs {
		got := res.Errors[i]
		if got.Line != want.Line || !strings.Contains(got.Reason, want.Reason) {
			t.Errorf("error %d = %v, want line %d to say %q", i, got, want.Line, want.Reason)
		}
	}
	if _, ok := got["bad-price"]; ok {
		t.Error("bad-price imported without a valid price")
	}
}

func TestImportShopifyDrafts(t *testing.T) {
	res := importFile(t, "testdata/shopify_current.csv", ImportOptions{IncludeDrafts: true})
	if _, ok := byID(res.Products)["draft-jeans"]; !ok {
		t.Errorf("draft-jeans missing with IncludeDrafts: %v", res.Products)
	}
}

func TestImportShopifyLegacyHeader(t *testing.T) {
	res := importFile(t, "testdata/shopify_legacy.csv", ImportOptions{DefaultCurrency: "EUR"})
	if len(res.Products) != 1 || len(res.Errors) != 0 {
		t.Fatalf("products %v errors %v, want 1 product", res.Products, res.Errors)
	}
	hat := res.Products[0]
	if hat.Color != "Red, Blue" || hat.Category != "Hats" || hat.Currency != "EUR" || !hat.InStock {
		t.Errorf("hat = %+v", hat)
	}
	if hat.Description != "Warm wool hat" {
		t.Errorf("description = %q", hat.Description)
	}
}

func TestImportShopifySamples(t *testing.T) {
	dir := "../../shared/data/shopify-sample-products"
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		t.Skipf("Shopify sample CSVs not found under %s", dir)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".csv"), func(t *testing.T) {
			res := importFile(t, f, ImportOptions{})
			if res.Format != FormatShopify {
				t.Errorf("format = %q, want shopify", res.Format)
			}
			if len(res.Errors) != 0 {
				t.Errorf("errors = %v", res.Errors)
			}
			if len(res.Products) == 0 {
				t.Fatal("no products")
			}
			for _, p := range res.Products {
				if p.ID == "" || p.Title == "" || p.Price <= 0 || strings.Contains(p.Description, "<") {
					t.Errorf("product %+v is incomplete", p)
				}
			}
		})
	}
}

func TestImportGMCTSV(t *testing.T) {
	res := importFile(t, "testdata/gmc.tsv", ImportOptions{})
	if res.Format != FormatGMCTSV {
		t.Errorf("format = %q, want gmc-tsv", res.Format)
	}
	got := byID(res.Products)
	shoe := got["SKU-1"]
	if shoe.Price != 99 || shoe.CompareAtPrice != 120 || shoe.Currency != "USD" || !shoe.InStock {
		t.Errorf("shoe = %+v, want sale price 99 of 120 USD in stock", shoe)
	}
	if shoe.Category != "Apparel > Shoes" || shoe.Brand != "Fleetfoot" || shoe.Color != "Blue" ||
		shoe.Image == "" || shoe.URL != "https://example.com/p/s1" {
		t.Errorf("shoe = %+v", shoe)
	}
	if jacket := got["SKU-2"]; jacket.InStock || jacket.Currency != "EUR" {
		t.Errorf("jacket = %+v, want out of stock, EUR", jacket)
	}
	if len(res.Errors) != 2 || res.Errors[0].Line != 4 || res.Errors[1].Line != 5 {
		t.Errorf("errors = %v, want lines 4 and 5", res.Errors)
	}
}

func TestImportGMCXML(t *testing.T) {
	res := importFile(t, "testdata/gmc.xml", ImportOptions{})
	if res.Format != FormatGMCXML {
		t.Errorf("format = %q, want gmc-xml", res.Format)
	}
	got := byID(res.Products)
	board := got["X-1"]
	if board.Title != "Bamboo Cutting Board" || board.Description != "Large bamboo board." ||
		board.URL != "https://example.com/p/x1" || board.Category != "Kitchen > Boards" || board.Price != 25 {
		t.Errorf("board = %+v", board)
	}
	knife := got["X-2"]
	if knife.Price != 999 || knife.CompareAtPrice != 1299 || knife.Currency != "EUR" || knife.InStock {
		t.Errorf("knife = %+v, want 999 of 1299 EUR, out of stock", knife)
	}
	if len(res.Errors) != 1 || res.Errors[0].Reason != "missing id" {
		t.Errorf("errors = %v, want one missing id", res.Errors)
	}
}

func TestImportGenericCSVWithMapping(t *testing.T) {
	m, err := ParseMapping("id=sku,title=name,price=cost,compare_at_price=listed,category=group")
	if err != nil {
		t.Fatal(err)
	}
	res := importFile(t, "testdata/generic.csv", ImportOptions{Mapping: m})
	if res.Format != FormatCSV {
		t.Errorf("format = %q, want csv", res.Format)
	}
	fan := byID(res.Products)["A1"]
	if fan.Title != "Desk Fan, Quiet" || fan.Price != 1099 || fan.CompareAtPrice != 1499 ||
		fan.Currency != "INR" || fan.Category != "Home > Appliances > Fans" {
		t.Errorf("fan = %+v", fan)
	}
	if len(res.Errors) != 2 || res.Errors[0].Line != 4 || res.Errors[1].Line != 5 {
		t.Errorf("errors = %v, want lines 4 and 5", res.Errors)
	}
	if res.Errors[0].Error() != "line 4: missing title" {
		t.Errorf("error text = %q, want %q", res.Errors[0].Error(), "line 4: missing title")
	}
}

func TestImportJSONL(t *testing.T) {
	res := importFile(t, "testdata/catalog.jsonl", ImportOptions{})
	if res.Format != FormatJSONL || len(res.Products) != 10 || len(res.Errors) != 0 {
		t.Fatalf("format %q, %d products, errors %v", res.Format, len(res.Products), res.Errors)
	}
	tea := byID(res.Products)["p-tea-1"]
	if tea.TitleIn("zh") != "绿茶礼盒" || !slices.Equal(tea.Tags, []string{"tea", "gift"}) {
		t.Errorf("tea = %+v", tea)
	}
	if byID(res.Products)["p-boot-2"].InStock {
		t.Error("p-boot-2 in stock, want false")
	}
}

func TestImportJSONLBadLines(t *testing.T) {
	in := "{\"id\":\"a\",\"title\":\"A\",\"price\":\"¥88\"}\n{broken\n\n{\"id\":\"b\"}\n{\"id\":\"c\",\"title\":\"C\",\"price\":-3}\n"
	res, err := Import(strings.NewReader(in), "x.jsonl", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Products) != 1 || res.Products[0].Price != 88 || res.Products[0].Currency != "CNY" {
		t.Errorf("products = %+v", res.Products)
	}
	lines := []int{}
	for _, e := range res.Errors {
		lines = append(lines, e.Line)
	}
	if !slices.Equal(lines, []int{2, 4, 5}) {
		t.Errorf("error lines = %v (%v), want [2 4 5]", lines, res.Errors)
	}
}

func TestImportWrongFormat(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		format Format
	}{
		{"csv_as_shopify", "sku,name\n1,a\n", FormatShopify},
		{"csv_as_gmc_tsv", "a,b\n1,2\n", FormatGMCTSV},
		{"csv_as_xml", "id,title\n1,a\n", FormatGMCXML},
		{"xml_root_not_feed", "<html><body/></html>", FormatGMCXML},
		{"csv_as_jsonl", "id,title\n1,a\n", FormatJSONL},
		{"csv_without_id_column", "name,cost\nx,1\n", FormatCSV},
		{"unknown_format", "id,title\n", Format("excel")},
		{"empty_detect", "  \n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(strings.NewReader(tt.input), "feed.dat", ImportOptions{Format: tt.format})
			if !errors.Is(err, ErrFormat) {
				t.Errorf("Import(%q as %q) error = %v, want ErrFormat", tt.input, tt.format, err)
			}
			if err != nil && !strings.Contains(err.Error(), "feed.dat") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping("id=product_id, title=product_name,price=discounted_price")
	if err != nil {
		t.Fatal(err)
	}
	if m["id"] != "product_id" || m["title"] != "product_name" || m["price"] != "discounted_price" {
		t.Errorf("mapping = %v", m)
	}
	for _, bad := range []string{"id", "sku=product_id", "id=", "=x"} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("ParseMapping(%q) accepted", bad)
		}
	}
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in       string
		amount   float64
		currency string
	}{
		{"₹1,099", 1099, "INR"},
		{"$1,299.00", 1299, "USD"},
		{"1.299,00 €", 1299, "EUR"},
		{"¥88", 88, "CNY"},
		{"88元", 88, "CNY"},
		{"15.00 USD", 15, "USD"},
		{"USD 15", 15, "USD"},
		{"12,50", 12.5, ""},
		{"42", 42, ""},
		{"£3.5", 3.5, "GBP"},
		{"1 299,99 €", 1299.99, "EUR"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			amount, cur, err := ParsePrice(tt.in)
			if err != nil || amount != tt.amount || cur != tt.currency {
				t.Errorf("ParsePrice(%q) = %v, %q, %v; want %v, %q", tt.in, amount, cur, err, tt.amount, tt.currency)
			}
		})
	}
	for _, bad := range []string{"", "abc", "$", "1.2.3x", "-5"} {
		if _, _, err := ParsePrice(bad); !errors.Is(err, ErrInvalidPrice) {
			t.Errorf("ParsePrice(%q) error = %v, want ErrInvalidPrice", bad, err)
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := map[string]string{
		"<p>a</p><p>b</p>":                     "a b",
		"x &amp; y":                            "x & y",
		"<style>p{}</style>text":               "text",
		"<!-- hidden -->shown":                 "shown",
		`<a href="x>y">link</a>`:               "link",
		"3 < 5 and 6 > 2":                      "3 < 5 and 6 > 2",
		"line<br/>break":                       "line break",
		"<div><b>bold</b>&nbsp;&eacute;</div>": "bold \u00a0é",
	}
	for in, want := range tests {
		if got := plainText(in); got != strings.TrimSpace(want) && collapseSpace(got) != collapseSpace(want) {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}
