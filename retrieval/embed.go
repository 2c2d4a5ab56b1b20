package retrieval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tmc/langchaingo/embeddings"
)

// Embedder turns texts into vectors. Implementations return one vector per
// text, all of one dimension and L2-normalized.
type Embedder interface {
	// Name identifies the model and dimension, such as "local-hash-v2-65536".
	// The index stores it, and a different name at Open re-embeds the catalog.
	Name() string
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// localDim is the vector dimension of the local embedder: 2^16 hashed
// buckets, enough that two features of one product rarely share a bucket.
const localDim = 1 << 16

// Feature weights of the local embedder. Character trigrams let
// misspellings, word forms and split or joined compounds ("deckover",
// "deck over") still overlap. Trigrams weigh as much as words: on the
// validation half of the Home Depot queries the hybrid's nDCG@10 was
// 0.4000, 0.4045 and 0.4058 with trigram weights 0.35, 0.6 and 1.0.
const (
	weightWord    = 1.0
	weightBigram  = 0.7
	weightTrigram = 1.0
	weightCJKUni  = 0.5
	weightCJKBi   = 1.0
)

type localEmbedder struct{ dim int }

// NewLocalEmbedder returns the built-in embedder. It hashes lowercased,
// plural-stemmed word unigrams and bigrams, character trigrams of words,
// and CJK character unigrams and bigrams into 65,536 signed buckets, and
// weights each feature by 1+ln(tf). It needs no network, is deterministic,
// and is safe for concurrent use.
//
// An Index does not call Embed for it: the Index takes the sparse features
// directly and weights each bucket by its inverse document frequency in the
// catalog (see sparseIndex), which a catalog-independent embedder cannot
// do. Embed returns the same features without that weighting as dense,
// L2-normalized vectors for callers outside the Index. Such a vector has
// 65,536 entries, of which a few dozen are non-zero.
func NewLocalEmbedder() Embedder { return localEmbedder{dim: localDim} }

func (e localEmbedder) Name() string { return "local-hash-v2-" + strconv.Itoa(e.dim) }

func (e localEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("embed texts: %w", ctx.Err())
		}
		sv := e.embedSparse(t)
		v := make([]float32, e.dim)
		for k, d := range sv.idx {
			v[d] = sv.val[k]
		}
		normalize(v)
		out[i] = v
	}
	return out, nil
}

// sparseEmbedder is implemented by embedders whose vectors are mostly
// zero. The Index stores and scores such vectors sparsely and weights them
// by inverse document frequency.
type sparseEmbedder interface {
	// embedSparse returns the unnormalized features of text.
	embedSparse(text string) sparseVector
}

// Feature kinds, mixed into the hash so that equal strings of different
// kinds land in different buckets.
const (
	kindWord byte = iota + 1
	kindBigram
	kindTrigram
	kindCJKUni
	kindCJKBi
	kindEmpty
)

// featureCounter counts hashed features, each with its kind's weight.
type featureCounter struct {
	counts map[uint64]feature
}

type feature struct {
	count, weight float32
}

func (fc *featureCounter) add(kind byte, weight float32, parts ...string) {
	h := fnvOffset
	h = fnvByte(h, kind)
	for i, p := range parts {
		if i > 0 {
			h = fnvByte(h, ' ')
		}
		h = fnvString(h, p)
	}
	f := fc.counts[h]
	fc.counts[h] = feature{count: f.count + 1, weight: weight}
}

func (e localEmbedder) embedSparse(text string) sparseVector {
	fc := featureCounter{counts: make(map[uint64]feature, 4*len(text))}
	prevWord := ""
	splitRuns(text, func(r textRun) {
		if r.cjk {
			prevWord = ""
			addCJKFeatures(&fc, r.text)
			return
		}
		w := stem(r.text)
		fc.add(kindWord, weightWord, w)
		if prevWord != "" {
			fc.add(kindBigram, weightBigram, prevWord, w)
		}
		prevWord = w
		addTrigrams(&fc, r.text)
	})
	if len(fc.counts) == 0 {
		// A text without word characters still gets a non-zero vector, so
		// that it can be normalized.
		fc.add(kindEmpty, 1)
	}

	byBucket := make(map[uint32]float32, len(fc.counts))
	for h, f := range fc.counts {
		w := f.weight * (1 + float32(math.Log(float64(f.count))))
		// The top bit of the hash gives the sign, so that two features
		// sharing a bucket cancel on average instead of adding up.
		if h>>63 == 1 {
			w = -w
		}
		byBucket[uint32(h%uint64(e.dim))] += w
	}
	return newSparseVector(byBucket)
}

func addCJKFeatures(fc *featureCounter, run string) {
	prev := ""
	for _, r := range run {
		s := string(r)
		fc.add(kindCJKUni, weightCJKUni, s)
		if prev != "" {
			fc.add(kindCJKBi, weightCJKBi, prev+s)
		}
		prev = s
	}
}

// addTrigrams adds the character trigrams of a word padded with boundary
// marks, so "cap" yields "<ca", "cap", "ap>".
func addTrigrams(fc *featureCounter, word string) {
	if utf8.RuneCountInString(word) < 2 {
		return
	}
	padded := []rune("<" + word + ">")
	for i := 0; i+3 <= len(padded); i++ {
		fc.add(kindTrigram, weightTrigram, string(padded[i:i+3]))
	}
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// normalize scales v to unit length in place and reports whether v was
// non-zero.
func normalize(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return false
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
	return true
}

// ErrZeroVector is returned by a langchaingo-backed embedder when the model
// returns an all-zero vector, which cannot be normalized.
var ErrZeroVector = errors.New("embedder returned a zero vector")

type langchainEmbedder struct {
	e    embeddings.Embedder
	name string
}

// NewLangchainEmbedder adapts a langchaingo embedder, such as an
// OpenAI-compatible or Ollama model. name must identify the model and its
// dimension (for example "openai-text-embedding-3-small-1536"), because the
// index re-embeds the catalog when the name changes. Returned vectors are
// copied and L2-normalized.
func NewLangchainEmbedder(e embeddings.Embedder, name string) Embedder {
	return &langchainEmbedder{e: e, name: name}
}

func (l *langchainEmbedder) Name() string { return l.name }

func (l *langchainEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := l.e.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed %d texts with %s: %w", len(texts), l.name, err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embed %d texts with %s: got %d vectors", len(texts), l.name, len(vecs))
	}
	out := make([][]float32, len(vecs))
	for i, v := range vecs {
		if i > 0 && len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("embed texts with %s: vector %d has dimension %d, want %d",
				l.name, i, len(v), len(vecs[0]))
		}
		c := append([]float32(nil), v...)
		if !normalize(c) {
			return nil, fmt.Errorf("embed text %d with %s: %w", i, l.name, ErrZeroVector)
		}
		out[i] = c
	}
	return out, nil
}
