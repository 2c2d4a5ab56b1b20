package retrieval

import (
	"maps"
	"math"
	"slices"
)

// sparseVector is a vector stored as its non-zero entries, with idx in
// ascending order.
type sparseVector struct {
	idx []uint32
	val []float32
}

func newSparseVector(entries map[uint32]float32) sparseVector {
	v := sparseVector{idx: make([]uint32, 0, len(entries)), val: make([]float32, 0, len(entries))}
	for d, x := range entries {
		if x != 0 {
			v.idx = append(v.idx, d)
		}
	}
	slices.Sort(v.idx)
	for _, d := range v.idx {
		v.val = append(v.val, entries[d])
	}
	return v
}

// sparseIndex scores queries against the catalog's sparse vectors by cosine
// similarity after weighting every dimension by its inverse document
// frequency in the catalog. A bucket that most products share (the trigram
// "<st" or the word "with") so counts little, and a rare one counts much.
// It is the vector-side counterpart of BM25's idf, learnt from the catalog
// when the index is built. An index is immutable once built;
// withChanges returns a new one that shares the unchanged posting lists.
//
// Scoring walks one posting list per non-zero query dimension, so its cost
// is the sum of those dimensions' document frequencies rather than the
// catalog size times the query's non-zero count.
type sparseIndex struct {
	dim int
	// raw holds each product's unweighted vector, the form persisted and
	// reused when a write rebuilds the index.
	raw []sparseVector
	idf []float32
	// lists[d] are the products with a non-zero entry in dimension d at
	// the last full build, with their idf-weighted, per-product normalized
	// values. Scoring skips the postings of the products marked in stale.
	lists [][]vposting
	stale []bool
	// overlay[d] are the postings of products changed or added since the
	// last full build.
	overlay map[uint32][]vposting
}

type vposting struct {
	doc int32
	val float32
}

// idfWeight returns the smoothed inverse document frequency
// ln((1+n)/(1+df))+1, which stays positive for a dimension every product
// has.
func idfWeight(n, df int) float32 {
	return float32(math.Log(float64(1+n)/float64(1+df)) + 1)
}

func buildSparseIndex(dim int, raw []sparseVector) *sparseIndex {
	ix := &sparseIndex{dim: dim, raw: raw, idf: make([]float32, dim), lists: make([][]vposting, dim),
		overlay: map[uint32][]vposting{}}
	counts := make([]int, dim)
	total := 0
	for _, v := range raw {
		for _, d := range v.idx {
			counts[d]++
		}
		total += len(v.idx)
	}
	backing := make([]vposting, total)
	start := 0
	for d, c := range counts {
		ix.idf[d] = idfWeight(len(raw), c)
		ix.lists[d] = backing[start : start : start+c]
		start += c
	}
	for i, v := range raw {
		for k, w := range ix.weighted(v) {
			ix.lists[v.idx[k]] = append(ix.lists[v.idx[k]], vposting{doc: int32(i), val: w})
		}
	}
	return ix
}

// weighted returns the values of v weighted with the index's idf and
// normalized.
func (ix *sparseIndex) weighted(v sparseVector) []float32 {
	var sum float64
	for k, d := range v.idx {
		w := float64(v.val[k] * ix.idf[d])
		sum += w * w
	}
	inv := float32(0)
	if sum > 0 {
		inv = float32(1 / math.Sqrt(sum))
	}
	out := make([]float32, len(v.idx))
	for k, d := range v.idx {
		out[k] = v.val[k] * ix.idf[d] * inv
	}
	return out
}

// withChanges returns an index in which each product in changed has the
// vector changed[doc], where a doc at or past the current product count
// appends a product. It shares the lists of the last full build, marks the
// changed products stale in them, and copies only the overlay lists
// involved. The idf stays that of the last full build.
func (ix *sparseIndex) withChanges(changed map[int32]sparseVector) *sparseIndex {
	next := &sparseIndex{dim: ix.dim, raw: slices.Clone(ix.raw), idf: ix.idf, lists: ix.lists,
		stale: slices.Clone(ix.stale), overlay: maps.Clone(ix.overlay)}
	if next.stale == nil {
		next.stale = make([]bool, len(ix.raw))
	}

	// The previous version of a changed product is in the overlay when it
	// was already stale, and in the full-build lists otherwise.
	dropped := map[uint32][]int32{}
	for doc := range changed {
		if int(doc) >= len(ix.raw) {
			continue
		}
		if int(doc) < len(next.stale) && !next.stale[doc] {
			next.stale[doc] = true
			continue
		}
		for _, d := range ix.raw[doc].idx {
			dropped[d] = append(dropped[d], doc)
		}
	}
	copied := map[uint32]bool{}
	for d, docs := range dropped {
		next.overlay[d] = slices.DeleteFunc(slices.Clone(next.overlay[d]),
			func(p vposting) bool { return slices.Contains(docs, p.doc) })
		copied[d] = true
	}

	for _, doc := range sortedDocs(changed) {
		v := changed[doc]
		for int(doc) >= len(next.raw) {
			next.raw = append(next.raw, sparseVector{})
		}
		next.raw[doc] = v
		for k, w := range next.weighted(v) {
			d := v.idx[k]
			if !copied[d] {
				next.overlay[d] = slices.Clone(next.overlay[d])
				copied[d] = true
			}
			next.overlay[d] = append(next.overlay[d], vposting{doc: doc, val: w})
		}
	}
	return next
}

func sortedDocs[V any](m map[int32]V) []int32 {
	docs := make([]int32, 0, len(m))
	for d := range m {
		docs = append(docs, d)
	}
	slices.Sort(docs)
	return docs
}

// weightQuery returns q weighted by the catalog's idf and normalized.
func (ix *sparseIndex) weightQuery(q sparseVector) sparseVector {
	out := sparseVector{idx: q.idx, val: make([]float32, len(q.val))}
	for k, d := range q.idx {
		if int(d) < ix.dim {
			out.val[k] = q.val[k] * ix.idf[d]
		}
	}
	normalize(out.val)
	return out
}

// score adds the cosine similarity of the weighted query q with every
// product that shares a dimension with it to scores, and appends each
// product it touches for the first time to touched. seen marks the touched
// products; it must be all false on entry, and the caller clears it.
func (ix *sparseIndex) score(q sparseVector, scores []float32, seen []bool, touched []int32) []int32 {
	for k, d := range q.idx {
		if int(d) >= ix.dim {
			continue
		}
		qd := q.val[k]
		for _, p := range ix.lists[d] {
			if ix.stale != nil && ix.stale[p.doc] {
				continue
			}
			if !seen[p.doc] {
				seen[p.doc] = true
				touched = append(touched, p.doc)
			}
			scores[p.doc] += qd * p.val
		}
		for _, p := range ix.overlay[d] {
			if !seen[p.doc] {
				seen[p.doc] = true
				touched = append(touched, p.doc)
			}
			scores[p.doc] += qd * p.val
		}
	}
	return touched
}
