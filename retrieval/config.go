package retrieval

// fusionMethod is the rule by which Search combines the keyword and vector
// rankings.
type fusionMethod int

const (
	// fusionScore adds the two scores, each divided by the best score of
	// its list among the candidates, with the vector side weighted by
	// vectorWeight. It keeps how far apart the candidates score, which
	// reciprocal rank fusion throws away.
	fusionScore fusionMethod = iota
	// fusionRRF adds weight/(rrfK+rank) over the two lists.
	fusionRRF
)

// tokenOptions switch off parts of keyword tokenization. The zero value is
// the production tokenizer.
type tokenOptions struct {
	noStemming   bool
	noStopWords  bool
	noCJKBigrams bool // CJK runs become unigrams only
}

// searchConfig switches off or changes parts of the ranking, so that the
// evaluation can measure what each part contributes. The zero value is the
// production configuration, and only tests set anything else.
type searchConfig struct {
	tokenOptions
	noFieldWeights bool // every BM25F field weighs 1
	noKeyword      bool
	noVector       bool
	fusion         fusionMethod
	// vectorWeight overrides defaultVectorWeight when non-zero.
	vectorWeight float64
}

func (c *searchConfig) vectorWeightOrDefault() float64 {
	if c.vectorWeight != 0 {
		return c.vectorWeight
	}
	if c.fusion == fusionRRF {
		return rrfVectorWeight
	}
	return defaultVectorWeight
}
