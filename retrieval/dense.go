package retrieval

import (
	"context"
)

// denseOverfetch is how many times pool the first collection query of a
// filtered search fetches, and how much each further query grows.
const denseOverfetch = 4

// denseCandidates returns the pool products most similar to the dense
// query vector q that pass f, best first, with their scores in sc.vector.
//
// The chromem-go collection of the last full build ranks its products.
// chromem-go v0.7.0 filters only on exact metadata and document text, so a
// filtered search fetches more results than pool, keeps those that pass f,
// and queries again for more when fewer than pool pass. Products in the
// overlay of incremental upserts are scored directly from their new
// vectors, and the collection's stale entries for them are skipped.
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
		n = need * denseOverfetch
	}
	estimated := false
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

		next := n * denseOverfetch
		if !estimated {
			// Size the next query by the share of products that pass f,
			// so that a narrow filter needs one more query, not several.
			estimated = true
			matching := 0
			for doc := range dense.n {
				if st.matches(doc, f) {
					matching++
				}
			}
			if matching == 0 {
				return top.sorted(), nil
			}
			next = max(next, 2*need*dense.n/matching)
		}
		n = min(next, count)
	}
}
