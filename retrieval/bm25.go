package retrieval

import (
	"math"
	"strings"
)

// BM25 parameters and field weights. Field weights multiply term
// frequencies and lengths before saturation (the BM25F way), so a word in
// the title counts three times one in the description.
const (
	bm25K1 = 1.2
	bm25B  = 0.75

	weightTitle       = 3.0
	weightBrand       = 1.5
	weightCategory    = 1.5
	weightTags        = 1.5
	weightColor       = 1.0
	weightDescription = 1.0

	// maxDescriptionRunes bounds how much of a description is indexed and
	// embedded; long marketing copy otherwise drowns the title.
	maxDescriptionRunes = 2000
)

// posting is one document's weighted frequency of a term.
type posting struct {
	doc int32
	tf  float32
}

// keywordIndex is an immutable BM25F inverted index over a product slice.
type keywordIndex struct {
	postings map[string][]posting
	// norm[i] is k1*(1-b+b*dl/avgdl) for document i.
	norm []float32
	idf  map[string]float32
}

type weightedField struct {
	text   string
	weight float32
}

func productFields(p *Product, uniform bool) []weightedField {
	fields := []weightedField{
		{p.Title, weightTitle},
		{p.Brand, weightBrand},
		{p.Category, weightCategory},
		{strings.Join(p.Tags, " "), weightTags},
		{p.Color, weightColor},
		{truncateRunes(p.Description, maxDescriptionRunes), weightDescription},
	}
	for _, lt := range p.Localized {
		fields = append(fields,
			weightedField{lt.Title, weightTitle},
			weightedField{truncateRunes(lt.Description, maxDescriptionRunes), weightDescription})
	}
	if uniform {
		for i := range fields {
			fields[i].weight = 1
		}
	}
	return fields
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func buildKeywordIndex(products []Product, cfg *searchConfig) *keywordIndex {
	ix := &keywordIndex{
		postings: make(map[string][]posting),
		norm:     make([]float32, len(products)),
	}
	lengths := make([]float32, len(products))
	var total float64
	tf := make(map[string]float32, 64)
	var toks []string
	for i := range products {
		clear(tf)
		var dl float32
		for _, f := range productFields(&products[i], cfg.noFieldWeights) {
			toks = cfg.keywordTokens(f.text, true, toks[:0])
			for _, t := range toks {
				tf[t] += f.weight
			}
			dl += f.weight * float32(len(toks))
		}
		for t, v := range tf {
			ix.postings[t] = append(ix.postings[t], posting{doc: int32(i), tf: v})
		}
		lengths[i] = dl
		total += float64(dl)
	}
	avg := float32(1)
	if len(products) > 0 && total > 0 {
		avg = float32(total / float64(len(products)))
	}
	for i, dl := range lengths {
		ix.norm[i] = bm25K1 * (1 - bm25B + bm25B*dl/avg)
	}
	ix.idf = make(map[string]float32, len(ix.postings))
	n := float64(len(products))
	for t, ps := range ix.postings {
		df := float64(len(ps))
		ix.idf[t] = float32(math.Log(1 + (n-df+0.5)/(df+0.5)))
	}
	return ix
}

// score adds the BM25 score of each query term to scores and appends every
// document it touches for the first time to touched.
func (ix *keywordIndex) score(terms []string, scores []float32, touched []int32) []int32 {
	for _, t := range terms {
		ps := ix.postings[t]
		idf := ix.idf[t]
		for _, p := range ps {
			if scores[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			scores[p.doc] += idf * p.tf * (bm25K1 + 1) / (p.tf + ix.norm[p.doc])
		}
	}
	return touched
}
