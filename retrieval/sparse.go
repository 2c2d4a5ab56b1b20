package retrieval

import (
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
// frequency in the catalog, so a bucket that most products share (the
// trigram "<st" or the word "with") counts little and a rare one counts
// much. It is the vector-side counterpart of BM25's idf, learnt from the
// catalog when the index is built. An index is immutable once built;
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
	// lists[d] are the products with a non-zero entry in dimension d, with
	// their idf-weighted, per-product normalized values. A full build
	// slices every list from one backing array with its capacity clipped,
	// so that appending to a list copies it.
	lists [][]vposting
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
	ix := &sparseIndex{dim: dim, raw: raw, idf: make([]float32, dim), lists: make([][]vposting, dim)}
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
		ix.appendDoc(int32(i), v)
	}
	return ix
}

// appendDoc weights v with the index's idf, normalizes it and appends it to
// the posting lists of its dimensions.
func (ix *sparseIndex) appendDoc(doc int32, v sparseVector) {
	var sum float64
	for k, d := range v.idx {
		w := float64(v.val[k] * ix.idf[d])
		sum += w * w
	}
	inv := float32(0)
	if sum > 0 {
		inv = float32(1 / math.Sqrt(sum))
	}
	for k, d := range v.idx {
		ix.lists[d] = append(ix.lists[d], vposting{doc: doc, val: v.val[k] * ix.idf[d] * inv})
	}
}

// withChanges returns an index in which each product in changed has the
// vector raw[doc], where doc may equal the current product count to append
// a product. It copies only the posting lists of the dimensions involved
// and keeps the idf of the current index.
func (ix *sparseIndex) withChanges(changed map[int32]sparseVector) *sparseIndex {
	next := &sparseIndex{dim: ix.dim, raw: slices.Clone(ix.raw), idf: ix.idf, lists: slices.Clone(ix.lists)}
	for doc := range changed {
		if int(doc) < len(next.raw) {
			for _, d := range next.raw[doc].idx {
				next.lists[d] = slices.DeleteFunc(slices.Clone(next.lists[d]),
					func(p vposting) bool { return p.doc == doc })
			}
		}
	}
	for _, doc := range sortedDocs(changed) {
		v := changed[doc]
		for int(doc) >= len(next.raw) {
			next.raw = append(next.raw, sparseVector{})
		}
		next.raw[doc] = v
		for _, d := range v.idx {
			next.lists[d] = slices.Clip(next.lists[d])
		}
		next.appendDoc(doc, v)
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
			if !seen[p.doc] {
				seen[p.doc] = true
				touched = append(touched, p.doc)
			}
			scores[p.doc] += qd * p.val
		}
	}
	return touched
}
