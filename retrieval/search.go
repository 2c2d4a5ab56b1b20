package retrieval

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Fusion parameters. Each ranked list contributes weight/(rrfK+rank) to a
// product's fused score (reciprocal rank fusion), and each list is cut to
// candidatePool entries before fusion. The vector list counts half: the
// hashed local embedder is a weaker signal than BM25 for short keyword
// queries, and mainly rescues misspellings and partial words.
const (
	rrfK          = 60
	keywordWeight = 1.0
	vectorWeight  = 0.5
	candidatePool = 100
	defaultLimit  = 10
)

// scratch holds per-search buffers of catalog size, reused across searches.
type scratch struct {
	keyword []float32
	vector  []float32
	touched []int32
}

var scratchPool sync.Pool

func getScratch(n int) *scratch {
	s, _ := scratchPool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	if cap(s.keyword) < n {
		s.keyword = make([]float32, n)
		s.vector = make([]float32, n)
	}
	s.keyword = s.keyword[:n]
	s.vector = s.vector[:n]
	s.touched = s.touched[:0]
	return s
}

// Search ranks the catalog for q. It reads filters from q.Text with
// ParseFilter, merges them with q.Filter, and removes the price and stock
// phrases from the text before keyword and vector ranking. Only products
// that pass the filter are ranked; when none of them matches, Search ranks
// the whole catalog instead and sets Result.Relaxed. A query without words
// lists the products that pass the filter in ID order.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	st := ix.cur.Load()
	parsed, text := parseFilterText(q.Text)
	f := mergeFilters(q.Filter, parsed)
	res := Result{Filter: f, Hits: []Hit{}}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, len(st.products))
	if limit == 0 {
		return res, nil
	}

	var qvec []float32
	terms := queryTerms(text)
	if len(terms) > 0 || strings.TrimSpace(text) != "" {
		vecs, err := ix.embedder.Embed(ctx, []string{stripCJKFiller(text)})
		if err != nil {
			return Result{}, fmt.Errorf("search: embed query: %w", err)
		}
		if len(vecs) != 1 || len(vecs[0]) != st.vectors.dim && st.vectors.n > 0 {
			return Result{}, fmt.Errorf("search: embed query: %s returned a vector of the wrong size",
				ix.embedder.Name())
		}
		qvec = vecs[0]
	}

	if qvec == nil {
		res.Hits = listFiltered(st, compileFilter(&f), limit)
		if len(res.Hits) == 0 && !f.isZero() {
			res.Relaxed = true
			res.Hits = listFiltered(st, compileFilter(&Filter{}), limit)
		}
		return res, nil
	}

	res.Hits = rank(st, terms, qvec, compileFilter(&f), limit)
	if len(res.Hits) == 0 && !f.isZero() {
		res.Relaxed = true
		res.Hits = rank(st, terms, qvec, compileFilter(&Filter{}), limit)
	}
	return res, nil
}

// queryTerms returns the distinct BM25 terms of a query.
func queryTerms(text string) []string {
	terms := keywordTokens(stripCJKFiller(text), false, nil)
	slices.Sort(terms)
	return slices.Compact(terms)
}

func listFiltered(st *state, f *compiledFilter, limit int) []Hit {
	var hits []Hit
	for i := range st.products {
		if len(hits) == limit {
			break
		}
		if st.matches(i, f) {
			hits = append(hits, Hit{Product: cloneProduct(st.products[i])})
		}
	}
	return hits
}

// rank fuses the keyword and vector rankings of the products that pass f.
func rank(st *state, terms []string, qvec []float32, f *compiledFilter, limit int) []Hit {
	n := len(st.products)
	sc := getScratch(n)
	defer scratchPool.Put(sc)
	pool := max(candidatePool, limit)
	filtered := !f.zero

	clear(sc.keyword)
	sc.touched = st.keywords.score(terms, sc.keyword, sc.touched)
	kwTop := newTopK(pool)
	for _, d := range sc.touched {
		if !filtered || st.matches(int(d), f) {
			kwTop.push(d, sc.keyword[d])
		}
	}

	st.vectors.scoreAll(qvec, sc.vector)
	vecTop := newTopK(pool)
	for i, s := range sc.vector {
		// A product sharing no feature with the query is not a match.
		if s <= 0 || !vecTop.admits(int32(i), s) {
			continue
		}
		if filtered && !st.matches(i, f) {
			continue
		}
		vecTop.push(int32(i), s)
	}

	fused := map[int32]float64{}
	for r, c := range kwTop.sorted() {
		fused[c.doc] += keywordWeight / float64(rrfK+r+1)
	}
	for r, c := range vecTop.sorted() {
		fused[c.doc] += vectorWeight / float64(rrfK+r+1)
	}
	order := make([]int32, 0, len(fused))
	for d := range fused {
		order = append(order, d)
	}
	sort.Slice(order, func(a, b int) bool {
		fa, fb := fused[order[a]], fused[order[b]]
		if fa != fb {
			return fa > fb
		}
		return order[a] < order[b]
	})
	if len(order) > limit {
		order = order[:limit]
	}

	hits := make([]Hit, len(order))
	for k, d := range order {
		hits[k] = Hit{
			Product:      cloneProduct(st.products[d]),
			Score:        fused[d],
			KeywordScore: float64(sc.keyword[d]),
			VectorScore:  float64(sc.vector[d]),
		}
	}
	return hits
}
