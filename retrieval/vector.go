package retrieval

import (
	"container/heap"
	"context"
	"fmt"

	"github.com/philippgille/chromem-go"
)

// denseIndex holds the catalog's unit vectors from a dense embedder, one
// row per product of the last full build, and a chromem-go v0.7.0
// collection over the same rows that ranks them for a query. The local
// embedder's vectors go to sparseIndex instead.
//
// The collection is built once, before the state that owns it is swapped
// in, and never written afterwards: a chromem-go write holds the
// collection's lock, which would block the searches running on it.
// Products changed by incremental upserts are scored from the state's
// overlay (vectors.denseRows) instead, see denseCandidates.
type denseIndex struct {
	dim int
	n   int
	// data is row-major: product i is data[i*dim:(i+1)*dim]. The
	// collection's documents share these rows.
	data []float32
	// coll is nil until buildCollection runs.
	coll *chromem.Collection
}

// newDenseIndex copies rows, all of length dim, into a denseIndex without
// a collection.
func newDenseIndex(dim int, rows [][]float32) *denseIndex {
	d := &denseIndex{dim: dim, n: len(rows), data: make([]float32, dim*len(rows))}
	for i, r := range rows {
		copy(d.row(i), r)
	}
	return d
}

// row returns the vector of product i. It shares memory with the index, so
// callers must not modify it.
func (d *denseIndex) row(i int) []float32 {
	return d.data[i*d.dim : (i+1)*d.dim : (i+1)*d.dim]
}

// buildCollection puts row i in a new in-memory chromem-go collection as
// the document ids[i]. Rows of all zeros are left out because chromem-go
// cannot normalize them and their cosine with any query is 0, which never
// makes a product a vector candidate.
func (d *denseIndex) buildCollection(ctx context.Context, ids []string) error {
	coll, err := chromem.NewDB().CreateCollection(productsCollection, nil, noEmbedding)
	if err != nil {
		return fmt.Errorf("create vector collection: %w", err)
	}
	for i, id := range ids {
		r := d.row(i)
		if isZero(r) {
			continue
		}
		// AddDocument keeps the slice as the document's embedding when it
		// is normalized, so the collection adds no copy of the vectors.
		if err := coll.AddDocument(ctx, chromem.Document{ID: id, Embedding: r}); err != nil {
			return fmt.Errorf("add product %q to vector collection: %w", id, err)
		}
	}
	d.coll = coll
	return nil
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// query returns the n documents of the collection most similar to q, best
// first, with n clamped to the collection's size because chromem-go v0.7.0
// rejects a larger nResults.
func (d *denseIndex) query(ctx context.Context, q []float32, n int) ([]chromem.Result, error) {
	n = min(n, d.coll.Count())
	if n <= 0 {
		return nil, nil
	}
	res, err := d.coll.QueryEmbedding(ctx, q, n, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("query vector collection: %w", err)
	}
	return res, nil
}

// admits reports whether a score could enter the kept entries.
func (t *topK) admits(doc int32, score float32) bool {
	return len(t.heap) < t.k || better(scored{doc, score}, t.heap[0])
}

// dot returns the dot product of a and b over their common length.
func dot(a, b []float32) float32 {
	var s float32
	for i := range min(len(a), len(b)) {
		s += a[i] * b[i]
	}
	return s
}

// scored is a document index with its score.
type scored struct {
	doc   int32
	score float32
}

// topK keeps the k highest scores pushed. Ties go to the lower index so that
// results are deterministic.
type topK struct {
	k    int
	heap minHeap
}

func newTopK(k int) *topK { return &topK{k: k, heap: make(minHeap, 0, k)} }

func (t *topK) push(doc int32, score float32) {
	if len(t.heap) < t.k {
		heap.Push(&t.heap, scored{doc, score})
		return
	}
	if t.k == 0 || !better(scored{doc, score}, t.heap[0]) {
		return
	}
	t.heap[0] = scored{doc, score}
	heap.Fix(&t.heap, 0)
}

// sorted returns the kept entries, best first.
func (t *topK) sorted() []scored {
	out := make([]scored, len(t.heap))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&t.heap).(scored)
	}
	return out
}

func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.doc < b.doc
}

type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// compareScored orders a before b when a is better.
func compareScored(a, b scored) int {
	switch {
	case better(a, b):
		return -1
	case better(b, a):
		return 1
	}
	return 0
}
