package retrieval

import (
	"container/heap"
)

// vectorMatrix holds the catalog's unit vectors from a dense embedder
// dimension-major: column d is data[d*n:(d+1)*n], so entry (d, i) is
// component d of product i. A query scores the whole catalog one column at
// a time and skips the columns where the query is zero, which makes this
// the same exhaustive cosine ranking as a chromem-go v0.7.0 query. The
// local embedder's vectors go to sparseIndex instead.
type vectorMatrix struct {
	dim  int
	n    int
	data []float32
}

func newVectorMatrix(dim int, rows [][]float32) *vectorMatrix {
	m := &vectorMatrix{dim: dim, n: len(rows), data: make([]float32, dim*len(rows))}
	for i, r := range rows {
		m.setRow(i, r)
	}
	return m
}

func (m *vectorMatrix) setRow(i int, r []float32) {
	for d, x := range r {
		m.data[d*m.n+i] = x
	}
}

func (m *vectorMatrix) row(i int) []float32 {
	r := make([]float32, m.dim)
	m.rowInto(i, r)
	return r
}

// rowInto copies the vector of product i into r, which has length dim.
func (m *vectorMatrix) rowInto(i int, r []float32) {
	for d := range r {
		r[d] = m.data[d*m.n+i]
	}
}

// scoreAll sets scores[i] to the dot product of q with product i.
func (m *vectorMatrix) scoreAll(q []float32, scores []float32) {
	scores = scores[:m.n]
	clear(scores)
	for d, qd := range q {
		if qd == 0 {
			continue
		}
		axpy(qd, m.data[d*m.n:(d+1)*m.n], scores)
	}
}

// axpy adds a*x to y, four elements a step.
func axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		ys[0] += a * xs[0]
		ys[1] += a * xs[1]
		ys[2] += a * xs[2]
		ys[3] += a * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
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
