package retrieval

import (
	"maps"
	"math"
	"slices"
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
// withChanges returns a new index that shares the unchanged posting lists.
type keywordIndex struct {
	postings map[string][]posting
	// norm[i] is k1*(1-b+b*dl/avgdl) for document i.
	norm []float32
	idf  map[string]float32
	// avgLen is the average weighted document length at the last full
	// build; incremental changes keep it.
	avgLen float32
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

// docTerms returns the weighted frequency of each term of p and p's
// weighted length.
func docTerms(p *Product, cfg *searchConfig, toks []string) (map[string]float32, float32) {
	tf := make(map[string]float32, 32)
	var dl float32
	for _, f := range productFields(p, cfg.noFieldWeights) {
		toks = cfg.keywordTokens(f.text, true, toks[:0])
		for _, t := range toks {
			tf[t] += f.weight
		}
		dl += f.weight * float32(len(toks))
	}
	return tf, dl
}

func buildKeywordIndex(products []Product, cfg *searchConfig) *keywordIndex {
	ix := &keywordIndex{
		postings: make(map[string][]posting),
		norm:     make([]float32, len(products)),
	}
	lengths := make([]float32, len(products))
	var total float64
	var toks []string
	for i := range products {
		tf, dl := docTerms(&products[i], cfg, toks)
		for t, v := range tf {
			ix.postings[t] = append(ix.postings[t], posting{doc: int32(i), tf: v})
		}
		lengths[i] = dl
		total += float64(dl)
	}
	ix.avgLen = 1
	if len(products) > 0 && total > 0 {
		ix.avgLen = float32(total / float64(len(products)))
	}
	for i, dl := range lengths {
		ix.norm[i] = ix.lengthNorm(dl)
	}
	ix.idf = make(map[string]float32, len(ix.postings))
	for t, ps := range ix.postings {
		ix.idf[t] = bm25IDF(len(products), len(ps))
	}
	return ix
}

func (ix *keywordIndex) lengthNorm(dl float32) float32 {
	return bm25K1 * (1 - bm25B + bm25B*dl/ix.avgLen)
}

func bm25IDF(n, df int) float32 {
	return float32(math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
}

// withChanges returns an index over a catalog of n products in which the
// document doc has the text of changed[doc] instead of old[doc]; a doc
// missing from old is appended. It copies each posting list involved once
// and recomputes the idf of those terms. The average length stays that of
// the last full build.
func (ix *keywordIndex) withChanges(cfg *searchConfig, n int, old, changed map[int32]*Product) *keywordIndex {
	next := &keywordIndex{
		postings: maps.Clone(ix.postings),
		norm:     slices.Grow(slices.Clone(ix.norm), n-len(ix.norm))[:n],
		idf:      maps.Clone(ix.idf),
		avgLen:   ix.avgLen,
	}
	removed := map[string][]int32{}
	var toks []string
	for doc, p := range old {
		tf, _ := docTerms(p, cfg, toks)
		for t := range tf {
			removed[t] = append(removed[t], doc)
		}
	}
	// Every list involved gets a fresh backing array, so that the appends
	// below never write into one that an older index still reads.
	fresh := map[string]bool{}
	for t, docs := range removed {
		next.postings[t] = slices.DeleteFunc(slices.Clone(ix.postings[t]),
			func(p posting) bool { return slices.Contains(docs, p.doc) })
		fresh[t] = true
	}
	for _, doc := range sortedDocs(changed) {
		tf, dl := docTerms(changed[doc], cfg, toks)
		for t, v := range tf {
			if !fresh[t] {
				next.postings[t] = slices.Clone(ix.postings[t])
				fresh[t] = true
			}
			next.postings[t] = append(next.postings[t], posting{doc: doc, tf: v})
		}
		next.norm[doc] = next.lengthNorm(dl)
	}
	for t := range fresh {
		if len(next.postings[t]) == 0 {
			delete(next.postings, t)
			delete(next.idf, t)
			continue
		}
		next.idf[t] = bm25IDF(n, len(next.postings[t]))
	}
	return next
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
