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
// catalog when the state is built, and immutable afterwards.
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
	// Postings of dimension d are docs[offsets[d]:offsets[d+1]] with the
	// weighted, per-product normalized values in vals.
	offsets []uint32
	docs    []int32
	vals    []float32
}

// idfWeight returns the smoothed inverse document frequency
// ln((1+n)/(1+df))+1, which stays positive for a dimension every product
// has.
func idfWeight(n, df int) float32 {
	return float32(math.Log(float64(1+n)/float64(1+df)) + 1)
}

func buildSparseIndex(dim int, raw []sparseVector) *sparseIndex {
	ix := &sparseIndex{dim: dim, raw: raw, idf: make([]float32, dim), offsets: make([]uint32, dim+1)}
	total := 0
	for _, v := range raw {
		for _, d := range v.idx {
			ix.offsets[d+1]++
		}
		total += len(v.idx)
	}
	for d := range dim {
		ix.idf[d] = idfWeight(len(raw), int(ix.offsets[d+1]))
		ix.offsets[d+1] += ix.offsets[d]
	}

	ix.docs = make([]int32, total)
	ix.vals = make([]float32, total)
	next := slices.Clone(ix.offsets[:dim])
	for i, v := range raw {
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
			p := next[d]
			ix.docs[p] = int32(i)
			ix.vals[p] = v.val[k] * ix.idf[d] * inv
			next[d]++
		}
	}
	return ix
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
		lo, hi := ix.offsets[d], ix.offsets[d+1]
		docs, vals := ix.docs[lo:hi], ix.vals[lo:hi]
		for j, doc := range docs {
			if !seen[doc] {
				seen[doc] = true
				touched = append(touched, doc)
			}
			scores[doc] += qd * vals[j]
		}
	}
	return touched
}
