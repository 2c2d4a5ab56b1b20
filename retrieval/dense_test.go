package retrieval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/philippgille/chromem-go"
)

// hashedEmbedder is a deterministic dense embedder for tests and
// benchmarks. Each distinct word gets a pseudo-random vector of dim
// components seeded by the word's FNV-1a hash, and a text's vector is the
// normalized sum of its words' vectors. Like a real model's output, every
// component is non-zero, and texts sharing words are similar.
type hashedEmbedder struct {
	dim   int
	mu    sync.Mutex
	words map[string][]float32
}

func newHashedEmbedder(dim int) *hashedEmbedder {
	return &hashedEmbedder{dim: dim, words: map[string][]float32{}}
}

func (e *hashedEmbedder) Name() string { return fmt.Sprintf("hashed-%d", e.dim) }

func (e *hashedEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, text := range texts {
		v := make([]float32, e.dim)
		splitRuns(text, func(r textRun) {
			for d, x := range e.wordVector(r.text) {
				v[d] += x
			}
		})
		if !normalize(v) {
			v[0] = 1
		}
		out[i] = v
	}
	return out, nil
}

// wordVector returns the cached vector of word, drawing it on first use.
// The caller holds e.mu.
func (e *hashedEmbedder) wordVector(word string) []float32 {
	if v, ok := e.words[word]; ok {
		return v
	}
	r := rand.New(rand.NewPCG(fnvString(fnvOffset, word), 1))
	v := make([]float32, e.dim)
	for d := range v {
		v[d] = float32(r.NormFloat64())
	}
	e.words[word] = v
	return v
}

// exhaustiveCandidates ranks every product of st by the dot product of q
// with its current vector, the result that denseCandidates must reproduce.
func exhaustiveCandidates(st *state, q []float32, f *compiledFilter, pool int) []scored {
	top := newTopK(pool)
	for doc := range st.products {
		s := dot(q, st.vectors.denseRow(doc))
		if s > 0 && st.matches(doc, f) {
			top.push(int32(doc), s)
		}
	}
	return top.sorted()
}

// checkSameRanking compares two rankings position by position. The
// products may differ only where their scores tie, because chromem-go
// orders equal similarities arbitrarily, so each product of got must also
// have the score that trueScore computes for it.
func checkSameRanking(t *testing.T, st *state, got, want []scored, trueScore func(doc int32) float32,
	tolerance float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("ranking has %d products, want %d", len(got), len(want))
	}
	seen := map[int32]bool{}
	for k := range want {
		id := st.products[got[k].doc].ID
		if diff := math.Abs(float64(got[k].score - want[k].score)); diff > tolerance {
			t.Errorf("rank %d: score %v (%s), want %v (%s)", k, got[k].score, id,
				want[k].score, st.products[want[k].doc].ID)
		}
		if diff := math.Abs(float64(got[k].score - trueScore(got[k].doc))); diff > tolerance {
			t.Errorf("rank %d: score of %s = %v, want its cosine %v", k, id, got[k].score, trueScore(got[k].doc))
		}
		if seen[got[k].doc] {
			t.Errorf("rank %d: product %s ranked twice", k, id)
		}
		seen[got[k].doc] = true
	}
}

func embedOne(t *testing.T, emb Embedder, text string) []float32 {
	t.Helper()
	vecs, err := emb.Embed(t.Context(), []string{text})
	if err != nil {
		t.Fatalf("embed %q: %v", text, err)
	}
	return vecs[0]
}

var denseTestFilters = []struct {
	name   string
	filter Filter
}{
	{"no_filter", Filter{}},
	{"max_price", Filter{MaxPrice: 150}},
	{"in_stock_brand", Filter{InStockOnly: true, Brands: []string{"Lumo"}}},
	{"narrow", Filter{Brands: []string{"Acme"}, MaxPrice: 40, Colors: []string{"red"}}},
	{"no_match", Filter{Brands: []string{"no such brand"}}},
}

// checkDenseCandidates compares denseCandidates with an exhaustive scan for
// every query, filter and pool size.
func checkDenseCandidates(t *testing.T, ix *Index, emb Embedder) {
	t.Helper()
	st := ix.cur.Load()
	for _, text := range benchQueries {
		q := embedOne(t, emb, text)
		for _, tt := range denseTestFilters {
			for _, pool := range []int{5, candidatePool} {
				t.Run(fmt.Sprintf("%s/%s/pool_%d", text, tt.name, pool), func(t *testing.T) {
					f := compileFilter(&tt.filter)
					sc := getScratch(len(st.products))
					defer scratchPool.Put(sc)
					clear(sc.vector)
					got, err := denseCandidates(t.Context(), st, q, f, sc, pool)
					if err != nil {
						t.Fatalf("denseCandidates: %v", err)
					}
					want := exhaustiveCandidates(st, q, f, pool)
					trueScore := func(doc int32) float32 { return dot(q, st.vectors.denseRow(int(doc))) }
					checkSameRanking(t, st, got, want, trueScore, 1e-6)
					for _, c := range got {
						if sc.vector[c.doc] != c.score {
							t.Errorf("scratch score of %s = %v, want %v", st.products[c.doc].ID, sc.vector[c.doc], c.score)
						}
					}
				})
			}
		}
	}
}

func TestDenseCandidatesMatchExhaustiveScan(t *testing.T) {
	emb := newHashedEmbedder(256)
	ix := openIndex(t, "", Options{Embedder: emb})
	if err := ix.Replace(t.Context(), syntheticCatalog(600)); err != nil {
		t.Fatal(err)
	}
	st := ix.cur.Load()
	if st.vectors.dense == nil || st.vectors.dense.coll == nil {
		t.Fatal("dense embedder built no vector collection")
	}
	if got := st.vectors.dense.coll.Count(); got != 600 {
		t.Errorf("collection holds %d documents, want 600", got)
	}
	checkDenseCandidates(t, ix, emb)
}

func TestDenseCandidatesAfterIncrementalUpsert(t *testing.T) {
	emb := newHashedEmbedder(256)
	ix := openIndex(t, "", Options{Embedder: emb})
	catalog := syntheticCatalog(600)
	if err := ix.Replace(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	base := ix.cur.Load().vectors.dense

	// The renamed product's old vector stays in the collection and must
	// not be ranked.
	renamed := catalog[3]
	renamed.Title = "Acme wireless headphones"
	renamed.Brand = "Acme"
	added := Product{ID: "sku-new", Title: "Acme red garden hose", Brand: "Acme", Color: "red", Price: 20}
	if err := ix.Upsert(t.Context(), []Product{renamed, added}); err != nil {
		t.Fatal(err)
	}
	st := ix.cur.Load()
	if st.vectors.dense != base {
		t.Fatal("incremental upsert rebuilt the dense index, want the full build's index shared")
	}
	if len(st.vectors.denseRows) != 2 {
		t.Fatalf("dense overlay has %d rows, want 2", len(st.vectors.denseRows))
	}
	if got := base.coll.Count(); got != 600 {
		t.Errorf("collection holds %d documents after the upsert, want 600 (not written)", got)
	}
	checkDenseCandidates(t, ix, emb)

	// A query for the renamed product's old text matches its old vector in
	// the collection best, and that entry must be skipped.
	q := embedOne(t, emb, embeddingText(&catalog[3]))
	sc := getScratch(len(st.products))
	defer scratchPool.Put(sc)
	clear(sc.vector)
	got, err := denseCandidates(t.Context(), st, q, compileFilter(&Filter{}), sc, 5)
	if err != nil {
		t.Fatalf("denseCandidates: %v", err)
	}
	trueScore := func(doc int32) float32 { return dot(q, st.vectors.denseRow(int(doc))) }
	checkSameRanking(t, st, got, exhaustiveCandidates(st, q, compileFilter(&Filter{}), 5), trueScore, 1e-6)

	res, err := ix.Search(t.Context(), Query{Text: "acme red garden hose", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || res.Hits[0].Product.ID != added.ID {
		t.Errorf("search for the added product = %v, want %s first", hitIDs(res), added.ID)
	}
}

func TestDenseCollectionFollowsFullWrites(t *testing.T) {
	emb := newHashedEmbedder(256)
	ix := openIndex(t, t.TempDir(), Options{Embedder: emb})
	catalog := syntheticCatalog(50)
	if err := ix.Replace(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(t.Context(), []string{catalog[0].ID}); err != nil {
		t.Fatal(err)
	}
	coll := ix.cur.Load().vectors.dense.coll
	if got := coll.Count(); got != 49 {
		t.Errorf("collection holds %d documents after a delete, want 49", got)
	}
	if _, err := coll.GetByID(t.Context(), catalog[0].ID); err == nil {
		t.Errorf("deleted product %s is still in the collection", catalog[0].ID)
	}
	doc, err := coll.GetByID(t.Context(), catalog[1].ID)
	if err != nil {
		t.Fatalf("product %s missing from the collection: %v", catalog[1].ID, err)
	}
	want := embedOne(t, emb, embeddingText(&catalog[1]))
	if !slices.Equal(doc.Embedding, want) {
		t.Errorf("collection vector of %s differs from its embedding", catalog[1].ID)
	}
}

func TestDenseQueryClampsToCollectionSize(t *testing.T) {
	emb := newHashedEmbedder(256)
	ix := openIndex(t, "", Options{Embedder: emb})
	if err := ix.Replace(t.Context(), syntheticCatalog(3)); err != nil {
		t.Fatal(err)
	}
	res, err := ix.cur.Load().vectors.dense.query(t.Context(), embedOne(t, emb, "leather boots"), 50)
	if err != nil {
		t.Fatalf("query for more results than documents: %v", err)
	}
	if len(res) != 3 {
		t.Errorf("query returned %d results, want all 3", len(res))
	}
}

// TestSparseScoringMatchesChromem checks that the local embedder's sparse
// scorer ranks like a chromem-go collection of the same vectors expanded to
// dense: the idf-weighted, normalized product vectors as documents and the
// weighted query vector as the query.
func TestSparseScoringMatchesChromem(t *testing.T) {
	catalogs := []struct {
		name     string
		products []Product
	}{
		{"fixture", loadFixture(t)},
		{"synthetic", syntheticCatalog(60)},
	}
	queries := append([]string{"waterproof boots", "coffee mug gift", "red scarf"}, benchQueries...)
	for _, c := range catalogs {
		t.Run(c.name, func(t *testing.T) {
			ix := openIndex(t, "", Options{})
			if err := ix.Replace(t.Context(), c.products); err != nil {
				t.Fatal(err)
			}
			st := ix.cur.Load()
			sp := st.vectors.sparse
			coll, expanded := sparseAsChromem(t, st)
			for _, text := range queries {
				t.Run(text, func(t *testing.T) {
					q := sp.weightQuery(localEmbedder{dim: localDim}.embedSparse(text))
					sc := getScratch(len(st.products))
					defer scratchPool.Put(sc)
					got, err := vectorCandidates(t.Context(), st, queryVector{sparse: q}, compileFilter(&Filter{}), sc, 5)
					if err != nil {
						t.Fatal(err)
					}
					dense := make([]float32, localDim)
					for k, d := range q.idx {
						dense[d] = q.val[k]
					}
					res, err := coll.QueryEmbedding(t.Context(), dense, max(len(got), 1), nil, nil)
					if err != nil {
						t.Fatalf("chromem-go query: %v", err)
					}
					if len(got) == 0 {
						// No product shares a bucket with the query.
						if len(res) != 1 || res[0].Similarity > 1e-6 {
							t.Errorf("sparse scorer found nothing but chromem-go returned %+v", res)
						}
						return
					}
					want := make([]scored, len(res))
					for k, r := range res {
						want[k] = scored{doc: int32(st.byID[r.ID]), score: r.Similarity}
					}
					trueScore := func(doc int32) float32 { return dot(dense, expanded[doc]) }
					checkSameRanking(t, st, got, want, trueScore, 1e-5)
				})
			}
		})
	}
}

// sparseAsChromem returns a chromem-go collection with the idf-weighted,
// normalized vector of every product of st expanded to localDim
// dimensions, and those vectors by document.
func sparseAsChromem(t *testing.T, st *state) (*chromem.Collection, [][]float32) {
	t.Helper()
	sp := st.vectors.sparse
	coll, err := chromem.NewDB().CreateCollection("sparse", nil, noEmbedding)
	if err != nil {
		t.Fatal(err)
	}
	expanded := make([][]float32, len(sp.raw))
	for doc, raw := range sp.raw {
		dense := make([]float32, localDim)
		for k, w := range sp.weighted(raw) {
			dense[raw.idx[k]] = w
		}
		expanded[doc] = dense
		if isZero(dense) {
			continue
		}
		err := coll.AddDocument(t.Context(), chromem.Document{ID: st.products[doc].ID, Embedding: dense})
		if err != nil {
			t.Fatal(err)
		}
	}
	return coll, expanded
}

// TestDenseCandidatesRefetchForLowRankedMatches covers a filter whose
// products all rank below the others, so the first collection query,
// sized by the share of products passing, returns too few of them.
func TestDenseCandidatesRefetchForLowRankedMatches(t *testing.T) {
	emb := newHashedEmbedder(256)
	ix := openIndex(t, "", Options{Embedder: emb})
	var catalog []Product
	for i := range 400 {
		p := Product{ID: fmt.Sprintf("acme-%03d", i), Title: "Acme red leather boots", Brand: "Acme", Price: 50}
		if i%10 == 0 {
			p = Product{ID: fmt.Sprintf("zeta-%03d", i), Title: fmt.Sprintf("Zeta kettle model %d", i),
				Brand: "Zeta", Price: 30}
		}
		catalog = append(catalog, p)
	}
	if err := ix.Replace(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}

	st := ix.cur.Load()
	q := embedOne(t, emb, "acme red leather boots")
	f := compileFilter(&Filter{Brands: []string{"Zeta"}})
	sc := getScratch(len(st.products))
	defer scratchPool.Put(sc)
	clear(sc.vector)
	got, err := denseCandidates(t.Context(), st, q, f, sc, 5)
	if err != nil {
		t.Fatalf("denseCandidates: %v", err)
	}

	want := exhaustiveCandidates(st, q, f, 5)
	if len(want) == 0 {
		t.Fatal("no Zeta product has a positive cosine with the query; the case tests nothing")
	}
	trueScore := func(doc int32) float32 { return dot(q, st.vectors.denseRow(int(doc))) }
	checkSameRanking(t, st, got, want, trueScore, 1e-6)
}
