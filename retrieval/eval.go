package retrieval

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Evaluation conventions: a product is relevant when its mean judged
// relevance is at least relevantAt, and its nDCG gain is relevance-1, so
// grades 1 to 3 give gains 0 to 2. Unjudged products gain 0.
const (
	evalK      = 10
	relevantAt = 2.33
)

// Metrics are the retrieval quality figures of one evaluation run.
type Metrics struct {
	Queries  int     // queries with at least one judgment
	RecallAt float64 // mean recall@10 over queries with a relevant product
	NDCGAt   float64 // mean nDCG@10 over all queries
}

// EvalRetrieval measures search quality on a judged query set laid out as
// three CSV files with headers: products (product_uid, product_title),
// queries (query_id, query) and judgments (query_id, product_uid,
// relevance from 1 to 3). It indexes every product in memory with the local
// embedder, runs every judged query against the whole catalog with k=10,
// and writes a summary whose last line is
// "queries=N recall@10=R ndcg@10=G".
func EvalRetrieval(ctx context.Context, products, queries, judgments io.Reader, out io.Writer) (Metrics, error) {
	catalog, err := readEvalProducts(products)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval retrieval: %w", err)
	}
	qs, err := readEvalQueries(queries)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval retrieval: %w", err)
	}
	judged, err := readEvalJudgments(judgments)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval retrieval: %w", err)
	}

	ix, err := Open(ctx, "", Options{})
	if err != nil {
		return Metrics{}, fmt.Errorf("eval retrieval: %w", err)
	}
	defer ix.Close()
	if err := ix.Upsert(ctx, catalog); err != nil {
		return Metrics{}, fmt.Errorf("eval retrieval: %w", err)
	}
	m, recallQueries, err := evalQueries(ctx, ix, qs, judged, nil)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval retrieval: %w", err)
	}
	fmt.Fprintf(out, "products=%d judged_queries=%d queries_with_relevant=%d relevant_at=%.2f gain=relevance-1 unjudged_gain=0\n",
		len(catalog), m.Queries, recallQueries, relevantAt)
	fmt.Fprintf(out, "queries=%d recall@%d=%.4f ndcg@%d=%.4f\n", m.Queries, evalK, m.RecallAt, evalK, m.NDCGAt)
	return m, nil
}

// evalQueries runs every judged query for which keep returns true (every
// judged query when keep is nil) and returns the metrics and the number of
// queries with at least one relevant product.
func evalQueries(ctx context.Context, ix *Index, qs []evalQuery, judged map[string]map[string]float64,
	keep func(id string) bool) (Metrics, int, error) {
	var m Metrics
	var recallSum, ndcgSum float64
	recallQueries := 0
	for _, q := range qs {
		rels, ok := judged[q.id]
		if !ok || keep != nil && !keep(q.id) {
			continue
		}
		res, err := ix.Search(ctx, Query{Text: q.text, Limit: evalK})
		if err != nil {
			return Metrics{}, 0, fmt.Errorf("query %s: %w", q.id, err)
		}
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.Product.ID
		}
		m.Queries++
		ndcgSum += ndcgAt(ids, rels, evalK)
		if r, ok := recallAt(ids, rels, evalK); ok {
			recallSum += r
			recallQueries++
		}
	}
	if m.Queries > 0 {
		m.NDCGAt = ndcgSum / float64(m.Queries)
	}
	if recallQueries > 0 {
		m.RecallAt = recallSum / float64(recallQueries)
	}
	return m, recallQueries, nil
}

// isValidationQuery reports whether a query belongs to the validation half
// used for tuning: those whose ID has an even FNV-1a hash. The other half
// is held out.
func isValidationQuery(id string) bool {
	return fnvString(fnvOffset, id)%2 == 0
}

func ndcgAt(ids []string, rels map[string]float64, k int) float64 {
	var dcg float64
	for i, id := range ids {
		if i == k {
			break
		}
		if r, ok := rels[id]; ok {
			dcg += (r - 1) / math.Log2(float64(i+2))
		}
	}
	gains := make([]float64, 0, len(rels))
	for _, r := range rels {
		gains = append(gains, r-1)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(gains)))
	var ideal float64
	for i, g := range gains {
		if i == k {
			break
		}
		ideal += g / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

// recallAt returns the share of relevant products found in the first k, and
// false when the query has no relevant product.
func recallAt(ids []string, rels map[string]float64, k int) (float64, bool) {
	relevant := 0
	for _, r := range rels {
		if r >= relevantAt {
			relevant++
		}
	}
	if relevant == 0 {
		return 0, false
	}
	found := 0
	for i, id := range ids {
		if i == k {
			break
		}
		if rels[id] >= relevantAt {
			found++
		}
	}
	return float64(found) / float64(relevant), true
}

type evalQuery struct{ id, text string }

func readCSV(r io.Reader, name string, columns ...string) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s header: %w", name, err)
	}
	idx := make([]int, len(columns))
	for i, c := range columns {
		idx[i] = -1
		for j, h := range header {
			if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), c) {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("read %s: missing column %q in header %q", name, c, strings.Join(header, ","))
		}
	}
	var rows [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		row := make([]string, len(idx))
		for i, j := range idx {
			if j < len(rec) {
				row[i] = rec[j]
			}
		}
		rows = append(rows, row)
	}
}

func readEvalProducts(r io.Reader) ([]Product, error) {
	rows, err := readCSV(r, "products", "product_uid", "product_title")
	if err != nil {
		return nil, err
	}
	out := make([]Product, 0, len(rows))
	for _, row := range rows {
		if row[0] == "" || strings.TrimSpace(row[1]) == "" {
			continue
		}
		out = append(out, Product{ID: row[0], Title: row[1], InStock: true})
	}
	return out, nil
}

func readEvalQueries(r io.Reader) ([]evalQuery, error) {
	rows, err := readCSV(r, "queries", "query_id", "query")
	if err != nil {
		return nil, err
	}
	out := make([]evalQuery, len(rows))
	for i, row := range rows {
		out[i] = evalQuery{id: row[0], text: row[1]}
	}
	return out, nil
}

func readEvalJudgments(r io.Reader) (map[string]map[string]float64, error) {
	rows, err := readCSV(r, "judgments", "query_id", "product_uid", "relevance")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]float64{}
	for _, row := range rows {
		rel, err := strconv.ParseFloat(row[2], 64)
		if err != nil {
			return nil, fmt.Errorf("read judgments: query %s product %s: invalid relevance %q", row[0], row[1], row[2])
		}
		if out[row[0]] == nil {
			out[row[0]] = map[string]float64{}
		}
		out[row[0]][row[1]] = rel
	}
	return out, nil
}
