package retrieval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func loadFixture(t *testing.T) []Product {
	t.Helper()
	return importFile(t, "testdata/catalog.jsonl", ImportOptions{}).Products
}

func openIndex(t *testing.T, dir string, opts Options) *Index {
	t.Helper()
	ix, err := Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// countingEmbedder counts the texts it embeds.
type countingEmbedder struct {
	Embedder
	name string
	mu   sync.Mutex
	n    int
}

func (c *countingEmbedder) Name() string { return c.name }

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	c.n += len(texts)
	c.mu.Unlock()
	return c.Embedder.Embed(ctx, texts)
}

func (c *countingEmbedder) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestIndexPersistsAndReloads(t *testing.T) {
	dir := t.TempDir()
	emb := &countingEmbedder{Embedder: NewLocalEmbedder(), name: "local-hash-v1-512"}
	ix := openIndex(t, dir, Options{Embedder: emb})
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	if emb.count() != len(products) {
		t.Errorf("embedded %d texts, want %d", emb.count(), len(products))
	}
	ix.Close()

	again := &countingEmbedder{Embedder: NewLocalEmbedder(), name: "local-hash-v1-512"}
	ix2 := openIndex(t, dir, Options{Embedder: again})
	if ix2.Len() != len(products) {
		t.Fatalf("reloaded %d products, want %d", ix2.Len(), len(products))
	}
	if again.count() != 0 {
		t.Errorf("reopen embedded %d texts, want 0", again.count())
	}
	tea, ok := ix2.Get("p-tea-1")
	if !ok || tea.TitleIn("zh") != "绿茶礼盒" || tea.Price != 48 {
		t.Errorf("Get(p-tea-1) = %+v, %v", tea, ok)
	}
	res, err := ix2.Search(t.Context(), Query{Text: "coffee mug"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Product.ID != "p-mug-1" {
		t.Errorf("search after reload = %+v, %v; want p-mug-1 first", res.Hits, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("index dir holds %d entries, want the one snapshot file", len(entries))
	}
}

func TestIndexReembedsOnEmbedderChange(t *testing.T) {
	dir := t.TempDir()
	ix := openIndex(t, dir, Options{})
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	ix.Close()

	other := &countingEmbedder{Embedder: NewLocalEmbedder(), name: "local-hash-v2-512"}
	openIndex(t, dir, Options{Embedder: other}).Close()
	if other.count() != len(products) {
		t.Errorf("embedder change re-embedded %d texts, want %d", other.count(), len(products))
	}
	third := &countingEmbedder{Embedder: NewLocalEmbedder(), name: "local-hash-v2-512"}
	openIndex(t, dir, Options{Embedder: third})
	if third.count() != 0 {
		t.Errorf("second open after the change embedded %d texts, want 0", third.count())
	}
}

func TestIndexUpsertReusesUnchangedVectors(t *testing.T) {
	emb := &countingEmbedder{Embedder: NewLocalEmbedder(), name: "x"}
	ix := openIndex(t, t.TempDir(), Options{Embedder: emb})
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	before := emb.count()
	changed := products[0]
	changed.Price = 1 // price is not embedded
	renamed := products[1]
	renamed.Title = "Renamed Boots"
	if err := ix.Upsert(t.Context(), []Product{changed, renamed}); err != nil {
		t.Fatal(err)
	}
	if got := emb.count() - before; got != 1 {
		t.Errorf("second upsert embedded %d texts, want 1", got)
	}
	if p, _ := ix.Get(changed.ID); p.Price != 1 {
		t.Errorf("price after upsert = %v, want 1", p.Price)
	}
}

func TestIndexDeleteAndReplace(t *testing.T) {
	ix := openIndex(t, t.TempDir(), Options{})
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(t.Context(), []string{"p-mug-1", "unknown"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Get("p-mug-1"); ok || ix.Len() != len(products)-1 {
		t.Errorf("after delete: len %d, mug present %v", ix.Len(), ok)
	}
	if err := ix.Replace(t.Context(), products[:3]); err != nil {
		t.Fatal(err)
	}
	got := ix.Products()
	if len(got) != 3 {
		t.Fatalf("after replace: %d products, want 3", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].ID >= got[i].ID {
			t.Errorf("Products not sorted: %q before %q", got[i-1].ID, got[i].ID)
		}
	}
}

func TestIndexRejectsInvalidProducts(t *testing.T) {
	ix := openIndex(t, "", Options{})
	for _, p := range []Product{{Title: "no id"}, {ID: "no-title"}} {
		if err := ix.Upsert(t.Context(), []Product{p}); !errors.Is(err, ErrInvalidProduct) {
			t.Errorf("Upsert(%+v) error = %v, want ErrInvalidProduct", p, err)
		}
	}
}

func TestIndexCloseTwice(t *testing.T) {
	ix := openIndex(t, t.TempDir(), Options{})
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := ix.Upsert(t.Context(), loadFixture(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Upsert after Close = %v, want ErrClosed", err)
	}
}

func TestIndexCorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, snapshotFile), []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), dir, Options{}); !errors.Is(err, ErrCorruptIndex) {
		t.Errorf("Open on a corrupt file = %v, want ErrCorruptIndex", err)
	}
}

// denseEmbedder hides the local embedder's sparse form, so the index
// stores its vectors densely as it does for a langchaingo model.
type denseEmbedder struct{ Embedder }

func TestIndexMigratesChromemExport(t *testing.T) {
	dir := t.TempDir()
	products := loadFixture(t)
	slices.SortFunc(products, func(a, b Product) int { return strings.Compare(a.ID, b.ID) })
	texts := make([]string, len(products))
	for i := range products {
		texts[i] = embeddingText(&products[i])
	}
	emb := &countingEmbedder{Embedder: NewLocalEmbedder(), name: "dense-test"}
	rows, err := emb.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLegacySnapshot(dir, emb.Name(), products, rows); err != nil {
		t.Fatal(err)
	}
	before := emb.count()

	ix := openIndex(t, dir, Options{Embedder: emb})
	if got := emb.count() - before; got != 0 {
		t.Errorf("migration embedded %d texts, want 0", got)
	}
	if ix.Len() != len(products) {
		t.Errorf("migrated %d products, want %d", ix.Len(), len(products))
	}
	if _, err := os.Stat(filepath.Join(dir, legacySnapshotFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("legacy file after migration: stat error %v, want not exist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotFile)); err != nil {
		t.Errorf("new index file after migration: %v", err)
	}
	res, err := ix.Search(t.Context(), Query{Text: "coffee mug"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Product.ID != "p-mug-1" {
		t.Errorf("search after migration = %v, %v; want p-mug-1 first", hitIDs(res), err)
	}
}

func TestSearch(t *testing.T) {
	ix := openIndex(t, "", Options{})
	if err := ix.Upsert(t.Context(), loadFixture(t)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		query   Query
		wantTop string
		relaxed bool
	}{
		{"english_keyword", Query{Text: "hiking boots"}, "p-boot-1", false},
		{"plural_stemmed", Query{Text: "teapots"}, "p-teapot-1", false},
		{"misspelled", Query{Text: "backpak for travel"}, "p-backpack-1", false},
		{"chinese_product", Query{Text: "我想买蓝牙耳机"}, "p-headphone-1", false},
		{"chinese_single_char", Query{Text: "壳"}, "p-phone-1", false},
		{"localized_title", Query{Text: "绿茶"}, "p-tea-1", false},
		{"price_filter", Query{Text: "boots under 100"}, "p-boot-2", false},
		{"in_stock_filter", Query{Text: "snow boots in stock"}, "p-boot-1", false},
		{"color_from_text", Query{Text: "red scarf"}, "p-scarf-1", false},
		{"explicit_brand", Query{Text: "green tea", Filter: Filter{Brands: []string{"leafy"}}}, "p-tea-1", false},
		{"relaxed_when_empty", Query{Text: "coffee mug over 1000"}, "p-mug-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(t.Context(), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 {
				t.Fatalf("Search(%q) returned no hits", tt.query.Text)
			}
			if got := res.Hits[0].Product.ID; got != tt.wantTop {
				t.Errorf("Search(%q) top = %s, want %s (hits %v)", tt.query.Text, got, tt.wantTop, hitIDs(res))
			}
			if res.Relaxed != tt.relaxed {
				t.Errorf("Search(%q) relaxed = %v, want %v", tt.query.Text, res.Relaxed, tt.relaxed)
			}
			for i := 1; i < len(res.Hits); i++ {
				if res.Hits[i].Score > res.Hits[i-1].Score {
					t.Errorf("hits not sorted by score: %v", hitIDs(res))
				}
			}
			if !tt.relaxed {
				for _, h := range res.Hits {
					if !ix.cur.Load().matches(ix.cur.Load().byID[h.Product.ID], compileFilter(&res.Filter)) {
						t.Errorf("hit %s does not pass filter %+v", h.Product.ID, res.Filter)
					}
				}
			}
		})
	}
}

func TestSearchLimits(t *testing.T) {
	ix := openIndex(t, "", Options{})
	res, err := ix.Search(t.Context(), Query{Text: "anything", Limit: 5})
	if err != nil || len(res.Hits) != 0 {
		t.Errorf("search on empty index = %v, %v", res.Hits, err)
	}
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	res, err = ix.Search(t.Context(), Query{Text: "under 1000", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != len(products) || res.Filter.MaxPrice != 1000 {
		t.Errorf("filter-only query: %d hits (filter %+v), want %d", len(res.Hits), res.Filter, len(products))
	}
}

func TestSearchDuringUpsert(t *testing.T) {
	ix := openIndex(t, t.TempDir(), Options{})
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			p := products[i%len(products)]
			p.Title += " v2"
			if err := ix.Upsert(context.Background(), []Product{p}); err != nil {
				t.Errorf("upsert: %v", err)
				return
			}
		}
	})
	for range 200 {
		res, err := ix.Search(t.Context(), Query{Text: "boots", Limit: 3})
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("search during upsert = %v, %v", res.Hits, err)
		}
	}
	wg.Wait()
}

func hitIDs(res Result) []string {
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.Product.ID + ":" + strings.TrimSpace(h.Product.Title)
	}
	return ids
}
