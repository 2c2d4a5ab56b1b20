package retrieval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// foldedEmbedder folds the local embedder's features into 512 dense
// dimensions without idf weighting: the vector side before the sparse
// index, kept as an ablation row.
type foldedEmbedder struct{}

func (foldedEmbedder) Name() string { return "folded-512" }

func (foldedEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		sv := localEmbedder{dim: localDim}.embedSparse(t)
		v := make([]float32, 512)
		for k, d := range sv.idx {
			v[d%512] += sv.val[k]
		}
		normalize(v)
		out[i] = v
	}
	return out, nil
}

// ablationRow is one configuration of the ablation table. prepare, when
// set, changes the built index before the queries run.
type ablationRow struct {
	name     string
	config   searchConfig
	embedder Embedder
	prepare  func(*Index)
}

// dropVectorIDF rebuilds the index's sparse vectors with every idf set to
// 1, to measure what the catalog idf adds.
func dropVectorIDF(ix *Index) {
	st := ix.cur.Load()
	sp := st.vectors.sparse
	flat := &sparseIndex{dim: sp.dim, raw: sp.raw, idf: make([]float32, sp.dim),
		lists: make([][]vposting, sp.dim)}
	for d := range flat.idf {
		flat.idf[d] = 1
	}
	for i, v := range sp.raw {
		for k, w := range flat.weighted(v) {
			flat.lists[v.idx[k]] = append(flat.lists[v.idx[k]], vposting{doc: int32(i), val: w})
		}
	}
	next := *st
	next.vectors = vectors{sparse: flat}
	ix.cur.Store(&next)
}

// TestEvalAblation measures what each part of the ranking contributes on
// the Home Depot set: every row is one configuration, reported on all
// judged queries and on the validation and held-out halves. It builds
// several indexes of 54,667 products, so it runs only when asked for:
// RETRIEVAL_EVAL=1 go test -run TestEvalAblation -v ./retrieval
func TestEvalAblation(t *testing.T) {
	if os.Getenv("RETRIEVAL_EVAL") == "" || testing.Short() {
		t.Skip("set RETRIEVAL_EVAL=1 to run the Home Depot ablation")
	}
	if _, err := os.Stat(homeDepotDir); err != nil {
		t.Skipf("Home Depot evaluation data not found at %s", homeDepotDir)
	}
	catalog, qs, judged := loadHomeDepot(t)

	plain := tokenOptions{noStemming: true, noStopWords: true, noCJKBigrams: true}
	keywordOnly := func(o tokenOptions, noFieldWeights bool) searchConfig {
		return searchConfig{tokenOptions: o, noFieldWeights: noFieldWeights, noVector: true}
	}
	rows := []ablationRow{
		{"bm25_titles_plain", keywordOnly(plain, true), nil, nil},
		{"plus_stemming", keywordOnly(tokenOptions{noStopWords: true, noCJKBigrams: true}, true), nil, nil},
		{"plus_stop_words", keywordOnly(tokenOptions{noCJKBigrams: true}, true), nil, nil},
		{"plus_field_weights", keywordOnly(tokenOptions{noCJKBigrams: true}, false), nil, nil},
		{"plus_cjk_bigrams", keywordOnly(tokenOptions{}, false), nil, nil},
		{"vector_only_folded_512", searchConfig{noKeyword: true}, foldedEmbedder{}, nil},
		{"vector_only_sparse_no_idf", searchConfig{noKeyword: true}, nil, dropVectorIDF},
		{"vector_only_sparse_idf", searchConfig{noKeyword: true}, nil, nil},
		{"hybrid_score_0.5_no_idf", searchConfig{}, nil, dropVectorIDF},
		{"hybrid_folded_rrf_0.5", searchConfig{fusion: fusionRRF}, foldedEmbedder{}, nil},
		{"hybrid_rrf_1.0", searchConfig{fusion: fusionRRF, vectorWeight: 1}, nil, nil},
		{"hybrid_rrf_0.5", searchConfig{fusion: fusionRRF}, nil, nil},
		{"hybrid_score_0.25", searchConfig{vectorWeight: 0.25}, nil, nil},
		{"hybrid_score_0.5_default", searchConfig{}, nil, nil},
		{"hybrid_score_1.0", searchConfig{vectorWeight: 1}, nil, nil},
	}
	if only := os.Getenv("RETRIEVAL_ABLATION_ROWS"); only != "" {
		rows = filterRows(rows, strings.Split(only, ","))
	}

	t.Logf("| configuration | recall@10 all | ndcg@10 all | ndcg@10 validation | ndcg@10 held-out |")
	ndcg := map[string]float64{}
	for _, row := range rows {
		ix, err := Open(t.Context(), "", Options{Embedder: row.embedder, config: row.config})
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Upsert(t.Context(), catalog); err != nil {
			t.Fatal(err)
		}
		if row.prepare != nil {
			row.prepare(ix)
		}
		all := runEval(t, ix, qs, judged, nil)
		val := runEval(t, ix, qs, judged, isValidationQuery)
		held := runEval(t, ix, qs, judged, func(id string) bool { return !isValidationQuery(id) })
		ix.Close()
		t.Logf("| %s | %.4f | %.4f | %.4f | %.4f |", row.name, all.RecallAt, all.NDCGAt, val.NDCGAt, held.NDCGAt)
		if all.Queries == 0 {
			t.Errorf("%s: no judged queries ran", row.name)
		}
		ndcg[row.name] = all.NDCGAt
	}
	// The vector side must add to keyword search, not subtract from it.
	keyword, kwOK := ndcg["plus_cjk_bigrams"]
	hybrid, hyOK := ndcg["hybrid_score_0.5_default"]
	if kwOK && hyOK && hybrid <= keyword {
		t.Errorf("hybrid ndcg@10 %.4f is not above keyword-only %.4f", hybrid, keyword)
	}
}

func filterRows(rows []ablationRow, names []string) []ablationRow {
	var out []ablationRow
	for _, r := range rows {
		for _, n := range names {
			if r.name == n {
				out = append(out, r)
			}
		}
	}
	return out
}

func runEval(t *testing.T, ix *Index, qs []evalQuery, judged map[string]map[string]float64,
	keep func(string) bool) Metrics {
	t.Helper()
	m, _, err := evalQueries(t.Context(), ix, qs, judged, keep)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func loadHomeDepot(t *testing.T) ([]Product, []evalQuery, map[string]map[string]float64) {
	t.Helper()
	open := func(name string) *os.File {
		t.Helper()
		f, err := os.Open(filepath.Join(homeDepotDir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	catalog, err := readEvalProducts(open("products.csv"))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := readEvalQueries(open("queries.csv"))
	if err != nil {
		t.Fatal(err)
	}
	judged, err := readEvalJudgments(open("judgments.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(catalog) == 0 || len(qs) == 0 || len(judged) == 0 {
		t.Fatalf("Home Depot set is empty: %d products, %d queries, %d judged",
			len(catalog), len(qs), len(judged))
	}
	return catalog, qs, judged
}
