package retrieval

import (
	"context"
	"slices"
)

// denseOverfetch is the margin by which a filtered search fetches more
// collection results than the share of products passing the filter
// suggests, and the factor by which each further query grows.
const denseOverfetch = 2

// denseCandidates returns the pool products most similar to the dense
// query vector q that pass f, best first, with their scores in sc.vector.
//
// The chromem-go collection of the last full build ranks its products.
// chromem-go v0.7.0 filters only on exact metadata and document text, so a
// filtered search first counts the products that pass f. It then fetches
// enough results for pool of them to pass at that rate, with a margin,
// and queries again for more when fewer than pool pass. Each query scans
// the whole collection, so one pass over the filter fields costs less
// than a second query. Products in the overlay of incremental upserts are
// scored directly from their new vectors, and the collection's stale
// entries for them are skipped.
//
// NOTE: a dense search over 100,000 products of 256 dimensions, one
// chromem-go v0.7.0 query, takes about 50 ms at the median on a shared
// 2-core machine (BenchmarkSearchDense), above a 10 ms search budget.
func denseCandidates(ctx context.Context, st *state, q []float32, f *compiledFilter, sc *scratch,
	pool int) ([]scored, error) {
	dense := st.vectors.dense
	overlay := make([]scored, 0, len(st.vectors.denseRows))
	for doc, row := range st.vectors.denseRows {
		s := dot(q, row)
		sc.vector[doc] = s
		if s > 0 && st.matches(int(doc), f) {
			overlay = append(overlay, scored{doc, s})
		}
	}

	count := dense.coll.Count()
	need := pool + len(st.vectors.denseRows)
	n := need
	if !f.zero {
		matching := 0
		for doc := range dense.n {
			if st.matches(doc, f) {
				matching++
			}
		}
		if matching == 0 {
			slices.SortFunc(overlay, compareScored)
			return overlay[:min(pool, len(overlay))], nil
		}
		n = max(need, denseOverfetch*need*dense.n/matching)
	}
	for {
		res, err := dense.query(ctx, q, n)
		if err != nil {
			return nil, err
		}
		top := newTopK(pool)
		for _, c := range overlay {
			top.push(c.doc, c.score)
		}
		passed := 0
		exhausted := len(res) < n
		for _, r := range res {
			if r.Similarity <= 0 {
				// Results come best first, so no later one is a candidate.
				exhausted = true
				break
			}
			doc, ok := st.byID[r.ID]
			if !ok {
				continue
			}
			if _, stale := st.vectors.denseRows[int32(doc)]; stale || !st.matches(doc, f) {
				continue
			}
			passed++
			sc.vector[doc] = r.Similarity
			top.push(int32(doc), r.Similarity)
		}
		if passed >= pool || exhausted || n >= count {
			return top.sorted(), nil
		}

		n = min(n*denseOverfetch, count)
	}
}
