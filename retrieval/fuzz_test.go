package retrieval

import (
	"bytes"
	"os"
	"testing"
)

func seedFile(f *testing.F, path string) {
	f.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// checkImport runs Import and checks the invariants every importer keeps.
func checkImport(t *testing.T, data []byte, format Format) {
	res, err := Import(bytes.NewReader(data), "fuzz", ImportOptions{Format: format})
	if err != nil {
		return
	}
	for _, p := range res.Products {
		if p.ID == "" || p.Title == "" {
			t.Errorf("accepted product without id or title: %+v", p)
		}
		if p.Price < 0 || p.CompareAtPrice < 0 {
			t.Errorf("accepted negative price: %+v", p)
		}
	}
	for _, e := range res.Errors {
		if e.Line < 0 || e.Reason == "" {
			t.Errorf("row error without line or reason: %+v", e)
		}
	}
}

func FuzzImportShopify(f *testing.F) {
	seedFile(f, "testdata/shopify_current.csv")
	seedFile(f, "testdata/shopify_legacy.csv")
	f.Add([]byte("Handle,Title,Variant Price\nh,,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, FormatShopify) })
}

func FuzzImportJSONL(f *testing.F) {
	seedFile(f, "testdata/catalog.jsonl")
	f.Add([]byte(`{"id":"a","title":"A","price":"₹1,099","tags":["x",1]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, FormatJSONL) })
}

func FuzzImportGMCXML(f *testing.F) {
	seedFile(f, "testdata/gmc.xml")
	f.Add([]byte(`<feed xmlns:g="http://base.google.com/ns/1.0"><entry><g:id>1</g:id><title>t</title></entry></feed>`))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, FormatGMCXML) })
}

func FuzzImportCSV(f *testing.F) {
	seedFile(f, "testdata/generic.csv")
	seedFile(f, "testdata/gmc.tsv")
	f.Add([]byte("id,title,price\n1,\"a\"\"b\",1.299,00 €\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImport(t, data, FormatCSV)
		checkImport(t, data, FormatTSV)
		checkImport(t, data, FormatGMCTSV)
		checkImport(t, data, "")
	})
}
