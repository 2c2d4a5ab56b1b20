package retrieval

import (
	"maps"
	"slices"
	"strings"
)

// maxIncrementalShare bounds incremental writes. An Upsert patches the
// current state while the products changed since the last full build,
// its own included, stay at most this share of the catalog. Past it, the
// Upsert rebuilds everything, which also refreshes the corpus statistics
// (BM25 idf of untouched terms, average document length, the vector idf)
// that incremental writes leave as they were.
const maxIncrementalShare = 0.1

// canPatch reports whether an upsert of k products may patch st instead of
// rebuilding it.
func (st *state) canPatch(k int) bool {
	n := len(st.products)
	return n > 0 && (st.vectors.sparse != nil || st.vectors.dense != nil) &&
		float64(st.changedSinceBuild+k) <= maxIncrementalShare*float64(n)
}

// productVector is one product's vector in the form of the index's
// embedder: sparse for the local embedder, dense otherwise.
type productVector struct {
	sparse sparseVector
	dense  []float32
}

// withUpserts returns a new state in which each product of upserts replaces
// the one with its ID or is appended. vec returns the vector of a product
// whose embedded text changed. The new state shares every structure that
// the upserts leave unchanged.
func (st *state) withUpserts(upserts []Product, vec func(*Product) productVector) *state {
	next := &state{
		products:          slices.Clone(st.products),
		order:             st.order,
		byID:              st.byID,
		keywords:          st.keywords,
		vectors:           st.vectors,
		cfg:               st.cfg,
		category:          slices.Clone(st.category),
		brand:             slices.Clone(st.brand),
		colorBits:         slices.Clone(st.colorBits),
		colorText:         slices.Clone(st.colorText),
		changedSinceBuild: st.changedSinceBuild,
	}
	// The last upsert of an ID wins, as in a full build.
	latest := make(map[string]int, len(upserts))
	for i := range upserts {
		latest[upserts[i].ID] = i
	}
	var textChanged []int32
	added := false
	for i := range upserts {
		p := upserts[i]
		if latest[p.ID] != i {
			continue
		}
		doc, ok := next.byID[p.ID]
		if !ok {
			if !added {
				next.byID = maps.Clone(st.byID) // only additions change it
			}
			doc = len(next.products)
			next.byID[p.ID] = doc
			next.products = append(next.products, &p)
			next.category = append(next.category, "")
			next.brand = append(next.brand, "")
			next.colorBits = append(next.colorBits, 0)
			next.colorText = append(next.colorText, "")
			added = true
		} else if sameEmbeddingText(st.products[doc], &p) {
			next.products[doc] = &p
			continue
		}
		next.products[doc] = &p
		textChanged = append(textChanged, int32(doc))
	}

	oldText := map[int32]*Product{}
	newText := map[int32]*Product{}
	newVecs := map[int32]productVector{}
	for _, doc := range textChanged {
		if int(doc) < len(st.products) {
			oldText[doc] = st.products[doc]
		}
		next.setFilterFields(int(doc))
		newText[doc] = next.products[doc]
		newVecs[doc] = vec(next.products[doc])
		next.changedSinceBuild++
	}
	if len(newText) > 0 {
		next.keywords = st.keywords.withChanges(st.cfg, len(next.products), oldText, newText)
		next.vectors = st.vectors.withChanges(newVecs)
	}
	if added {
		next.order = sortedOrder(next.products)
	}
	return next
}

// withChanges returns vectors in which each product in changed has its new
// vector.
func (v vectors) withChanges(changed map[int32]productVector) vectors {
	if v.sparse != nil {
		sparse := make(map[int32]sparseVector, len(changed))
		for doc, pv := range changed {
			sparse[doc] = pv.sparse
		}
		return vectors{sparse: v.sparse.withChanges(sparse)}
	}
	rows := maps.Clone(v.denseRows)
	if rows == nil {
		rows = make(map[int32][]float32, len(changed))
	}
	for doc, pv := range changed {
		rows[doc] = pv.dense
	}
	return vectors{dense: v.dense, denseRows: rows}
}

// sortedOrder returns the documents of products sorted by product ID.
func sortedOrder(products []*Product) []int32 {
	order := make([]int32, len(products))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return strings.Compare(products[a].ID, products[b].ID)
	})
	return order
}
