package retrieval

import (
	"math"
	"testing"
)

func TestSparseIndexWeightsRareDimensions(t *testing.T) {
	// Dimension 1 is in every product, dimension 7 only in product 2.
	raw := []sparseVector{
		{idx: []uint32{1, 3}, val: []float32{1, 1}},
		{idx: []uint32{1, 5}, val: []float32{1, 1}},
		{idx: []uint32{1, 7}, val: []float32{1, 1}},
	}
	ix := buildSparseIndex(8, raw)
	if common, rare := ix.idf[1], ix.idf[7]; common >= rare {
		t.Errorf("idf of a dimension in every product = %v, of one in one product = %v; want the first smaller", common, rare)
	}

	q := ix.weightQuery(sparseVector{idx: []uint32{1, 7}, val: []float32{1, 1}})
	scores := make([]float32, len(raw))
	seen := make([]bool, len(raw))
	touched := ix.score(q, scores, seen, nil)
	if len(touched) != 3 {
		t.Errorf("touched %v, want all 3 products", touched)
	}
	if scores[2] <= scores[0] || scores[0] != scores[1] {
		t.Errorf("scores = %v, want product 2 first and products 0 and 1 tied", scores)
	}

	// The score is the cosine of the idf-weighted vectors.
	w := func(v sparseVector) map[uint32]float64 {
		out := map[uint32]float64{}
		var norm float64
		for k, d := range v.idx {
			x := float64(v.val[k] * ix.idf[d])
			out[d] = x
			norm += x * x
		}
		for d := range out {
			out[d] /= math.Sqrt(norm)
		}
		return out
	}
	qw, dw := w(sparseVector{idx: []uint32{1, 7}, val: []float32{1, 1}}), w(raw[2])
	var want float64
	for d, x := range qw {
		want += x * dw[d]
	}
	if math.Abs(float64(scores[2])-want) > 1e-5 {
		t.Errorf("score of product 2 = %v, want cosine %v", scores[2], want)
	}
}

func TestLocalEmbedderToleratesMisspelling(t *testing.T) {
	e := localEmbedder{dim: localDim}
	products := []string{"Simpson Strong-Tie 12-Gauge Angle", "BEHR Premium Textured DeckOver Wood Coating",
		"Rain Shower Head Chrome", "Galvanized Steel Pipe Fitting"}
	raw := make([]sparseVector, len(products))
	for i, p := range products {
		raw[i] = e.embedSparse(p)
	}
	ix := buildSparseIndex(localDim, raw)
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"misspelled_word", "galvinized pipe", 3},
		{"split_compound", "deck over", 1},
		{"plural", "showers heads", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ix.weightQuery(e.embedSparse(tt.query))
			scores := make([]float32, len(raw))
			ix.score(q, scores, make([]bool, len(raw)), nil)
			best := 0
			for i, s := range scores {
				if s > scores[best] {
					best = i
				}
			}
			if best != tt.want {
				t.Errorf("best match for %q = %q (scores %v), want %q", tt.query, products[best], scores, products[tt.want])
			}
		})
	}
}
