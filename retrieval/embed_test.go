package retrieval

import (
	"context"
	"errors"
	"math"
	"testing"
)

func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestLocalEmbedder(t *testing.T) {
	e := NewLocalEmbedder()
	if e.Name() != "local-hash-v2-65536" {
		t.Errorf("Name = %q", e.Name())
	}
	texts := []string{"waterproof hiking boots", "Waterproof Hiking Boot", "ceramic coffee mug",
		"无线蓝牙耳机", "蓝牙耳机", "!!!", ""}
	vecs, err := e.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		if len(v) != localDim {
			t.Fatalf("vector %d has dimension %d", i, len(v))
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-4 {
			t.Errorf("vector for %q has squared norm %v, want 1", texts[i], norm)
		}
	}
	if same, other := cosine(vecs[0], vecs[1]), cosine(vecs[0], vecs[2]); same < 0.9 || same <= other {
		t.Errorf("cos(boots, Boot) = %.3f, cos(boots, mug) = %.3f; want the first near 1 and larger", same, other)
	}
	if zh, cross := cosine(vecs[3], vecs[4]), cosine(vecs[3], vecs[2]); zh < 0.5 || zh <= cross {
		t.Errorf("cos(无线蓝牙耳机, 蓝牙耳机) = %.3f, vs mug %.3f", zh, cross)
	}
	again, _ := e.Embed(t.Context(), texts[:1])
	for i := range again[0] {
		if again[0][i] != vecs[0][i] {
			t.Fatal("embedding is not deterministic")
		}
	}
}

// fakeLangchain implements langchaingo's embeddings.Embedder.
type fakeLangchain struct{ vecs [][]float32 }

func (f fakeLangchain) EmbedDocuments(context.Context, []string) ([][]float32, error) {
	return f.vecs, nil
}

func (f fakeLangchain) EmbedQuery(context.Context, string) ([]float32, error) { return f.vecs[0], nil }

func TestLangchainEmbedderNormalizes(t *testing.T) {
	e := NewLangchainEmbedder(fakeLangchain{vecs: [][]float32{{3, 4}}}, "fake-2")
	vecs, err := e.Embed(t.Context(), []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	if vecs[0][0] != 0.6 || vecs[0][1] != 0.8 {
		t.Errorf("vector = %v, want [0.6 0.8]", vecs[0])
	}
	zero := NewLangchainEmbedder(fakeLangchain{vecs: [][]float32{{0, 0}}}, "fake-2")
	if _, err := zero.Embed(t.Context(), []string{"x"}); !errors.Is(err, ErrZeroVector) {
		t.Errorf("zero vector error = %v, want ErrZeroVector", err)
	}
	short := NewLangchainEmbedder(fakeLangchain{vecs: nil}, "fake-2")
	if _, err := short.Embed(t.Context(), []string{"x"}); err == nil {
		t.Error("missing vectors accepted")
	}
}
