package retrieval

import (
	"strings"
	"testing"
)

func TestShopifyProductWithoutValidPriceSkipped(t *testing.T) {
	csv := "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Variant Price\n" +
		"good,Good Mug,<p>Mug</p>,Acme,Mugs,,true,12.00\n" +
		"empty,Empty Price,,Acme,Mugs,,true,\n" +
		"bad,Bad Price,,Acme,Mugs,,true,cheap\n"
	res, err := Import(strings.NewReader(csv), "products.csv", ImportOptions{Format: FormatShopify})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(res.Products) != 1 || res.Products[0].ID != "good" {
		t.Fatalf("products = %+v, want only good", res.Products)
	}
	var lines []int
	for _, e := range res.Errors {
		lines = append(lines, e.Line)
	}
	if len(lines) != 3 || lines[0] != 3 || lines[1] != 4 || lines[2] != 4 {
		t.Errorf("error lines = %v, want [3 4 4]: no price on 3, invalid price and no product on 4", lines)
	}
	for _, e := range res.Errors {
		if e.Line == 3 && !strings.Contains(e.Reason, `"empty"`) {
			t.Errorf("line 3 reason %q does not name the handle", e.Reason)
		}
	}
}
