package retrieval

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// keywordPostingsByID returns each term's postings as product ID to
// weighted frequency.
func keywordPostingsByID(st *state) map[string]map[string]float32 {
	out := map[string]map[string]float32{}
	for t, ps := range st.keywords.postings {
		m := map[string]float32{}
		for _, p := range ps {
			m[st.products[p.doc].ID] = p.tf
		}
		out[t] = m
	}
	return out
}

// sparseListsByID returns, for each non-empty dimension, the sorted IDs of
// the products that scoring visits: the current postings of the full-build
// lists and the overlay.
func sparseListsByID(st *state) map[int][]string {
	sp := st.vectors.sparse
	out := map[int][]string{}
	for d, list := range sp.lists {
		for _, p := range list {
			if sp.stale == nil || !sp.stale[p.doc] {
				out[d] = append(out[d], st.products[p.doc].ID)
			}
		}
	}
	for d, list := range sp.overlay {
		for _, p := range list {
			out[int(d)] = append(out[int(d)], st.products[p.doc].ID)
		}
	}
	for d, ids := range out {
		if len(ids) == 0 {
			delete(out, d)
			continue
		}
		slices.Sort(ids)
	}
	return out
}

func TestIncrementalUpsertMatchesFullBuild(t *testing.T) {
	catalog := syntheticCatalog(200)
	patched := openIndex(t, t.TempDir(), Options{})
	if err := patched.Upsert(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	built := patched.cur.Load()

	renamed := catalog[3]
	renamed.Title = "Renamed Copper Kettle"
	repriced := catalog[4]
	repriced.Price = 1
	added := Product{ID: "sku-new", Title: "Bamboo Garden Hose", Price: 20, InStock: true}
	upserts := []Product{renamed, repriced, added, added}
	if err := patched.Upsert(t.Context(), upserts); err != nil {
		t.Fatal(err)
	}
	// A second round changes an already changed product and an added one.
	renamed.Title = "Renamed Copper Kettle Again"
	added.Title = "Bamboo Garden Hose Reel"
	if err := patched.Upsert(t.Context(), []Product{renamed, added}); err != nil {
		t.Fatal(err)
	}
	st := patched.cur.Load()
	if st.keywords == built.keywords {
		t.Fatal("upsert rebuilt nothing: the keyword index is the old one")
	}
	if st.changedSinceBuild != 4 {
		t.Errorf("changedSinceBuild = %d, want 4 (renamed and added twice; repriced keeps its text)", st.changedSinceBuild)
	}

	full := openIndex(t, "", Options{})
	want := append(slices.Clone(catalog), added)
	want[3], want[4] = renamed, repriced
	if err := full.Replace(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	ref := full.cur.Load()

	if got, exp := keywordPostingsByID(st), keywordPostingsByID(ref); !maps.EqualFunc(got, exp, maps.Equal) {
		for term := range exp {
			if !maps.Equal(got[term], exp[term]) {
				t.Errorf("postings of %q = %v, want %v", term, got[term], exp[term])
			}
		}
		t.Errorf("keyword postings differ from a full build (%d terms, want %d)", len(got), len(exp))
	}
	got, exp := sparseListsByID(st), sparseListsByID(ref)
	if !maps.EqualFunc(got, exp, slices.Equal) {
		t.Errorf("sparse posting lists differ from a full build (%d dimensions, want %d)", len(got), len(exp))
	}

	ids := patched.Products()
	if len(ids) != len(want) {
		t.Fatalf("Products() has %d products, want %d", len(ids), len(want))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1].ID >= ids[i].ID {
			t.Fatalf("Products() not sorted by ID at %d: %s, %s", i, ids[i-1].ID, ids[i].ID)
		}
	}
	if p, _ := patched.Get(repriced.ID); p.Price != 1 {
		t.Errorf("price of %s = %v, want 1", repriced.ID, p.Price)
	}
	res, err := patched.Search(t.Context(), Query{Text: "renamed copper kettle again"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Product.ID != renamed.ID {
		t.Errorf("search for the renamed product = %v, %v; want %s first", hitIDs(res), err, renamed.ID)
	}
	res, err = patched.Search(t.Context(), Query{Text: "bamboo garden hose reel"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Product.ID != added.ID {
		t.Errorf("search for the added product = %v, %v; want %s first", hitIDs(res), err, added.ID)
	}

	// The patched state is persisted: a reload finds the same catalog.
	reloaded := openIndex(t, patched.dir, Options{})
	if reloaded.Len() != len(want) {
		t.Errorf("reloaded %d products, want %d", reloaded.Len(), len(want))
	}
	if p, _ := reloaded.Get(renamed.ID); p.Title != renamed.Title {
		t.Errorf("reloaded title = %q, want %q", p.Title, renamed.Title)
	}
}

func TestIncrementalUpsertFallsBackToFullBuild(t *testing.T) {
	ix := openIndex(t, "", Options{})
	catalog := syntheticCatalog(50)
	if err := ix.Upsert(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	// 50 products allow 5 incremental changes before a full build.
	for round := range 4 {
		changed := catalog[round*2 : round*2+2]
		for k := range changed {
			changed[k].Title = fmt.Sprintf("%s round %d", changed[k].Title, round)
		}
		if err := ix.Upsert(t.Context(), changed); err != nil {
			t.Fatal(err)
		}
		st := ix.cur.Load()
		wantChanged := (round + 1) * 2
		if round == 2 {
			wantChanged = 0 // 4+2 > 5, so this write rebuilt everything
		} else if round == 3 {
			wantChanged = 2
		}
		if st.changedSinceBuild != wantChanged {
			t.Errorf("round %d: changedSinceBuild = %d, want %d", round, st.changedSinceBuild, wantChanged)
		}
	}
}

// TestIncrementalUpsertDuringSearch runs searches while incremental
// upserts patch the state, so that the race detector checks both sides.
func TestIncrementalUpsertDuringSearch(t *testing.T) {
	ix := openIndex(t, t.TempDir(), Options{})
	catalog := syntheticCatalog(500)
	if err := ix.Upsert(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for round := range 20 {
			p := catalog[round]
			p.Title += " restocked"
			added := Product{ID: fmt.Sprintf("sku-added-%d", round), Title: "Copper Teapot", InStock: true}
			if err := ix.Upsert(context.Background(), []Product{p, added}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 200 {
		res, err := ix.Search(t.Context(), Query{Text: "copper teapot restocked", Limit: 5})
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("search during upsert = %v, %v", hitIDs(res), err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := ix.cur.Load(); st.changedSinceBuild != 40 {
		t.Errorf("changedSinceBuild = %d, want 40: every upsert should have been incremental", st.changedSinceBuild)
	}
	if ix.Len() != 520 {
		t.Errorf("Len = %d, want 520", ix.Len())
	}
}

func TestIncrementalUpsertDenseVectors(t *testing.T) {
	dir := t.TempDir()
	emb := &countingEmbedder{Embedder: foldedEmbedder{}, name: "folded-512"}
	ix := openIndex(t, dir, Options{Embedder: emb})
	catalog := syntheticCatalog(200)
	if err := ix.Upsert(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	before := emb.count()

	renamed := catalog[7]
	renamed.Title = "Renamed Copper Kettle"
	repriced := catalog[8]
	repriced.Price = 1
	added := Product{ID: "sku-new", Title: "Bamboo Garden Hose", Price: 20, InStock: true}
	if err := ix.Upsert(t.Context(), []Product{renamed, repriced, added}); err != nil {
		t.Fatal(err)
	}
	if got := emb.count() - before; got != 2 {
		t.Errorf("incremental upsert embedded %d texts, want 2 (renamed and added)", got)
	}
	st := ix.cur.Load()
	if st.changedSinceBuild != 2 {
		t.Errorf("changedSinceBuild = %d, want 2", st.changedSinceBuild)
	}
	if len(st.vectors.denseRows) != 2 {
		t.Errorf("dense overlay has %d rows, want 2", len(st.vectors.denseRows))
	}
	check := func(ix *Index, when string) {
		t.Helper()
		for _, tt := range []struct{ query, want string }{
			{"renamed copper kettle", renamed.ID},
			{"bamboo garden hose", added.ID},
		} {
			res, err := ix.Search(t.Context(), Query{Text: tt.query, Limit: 3})
			if err != nil || len(res.Hits) == 0 || res.Hits[0].Product.ID != tt.want {
				t.Errorf("%s: search %q = %v, %v; want %s first", when, tt.query, hitIDs(res), err, tt.want)
				continue
			}
			if res.Hits[0].VectorScore < 0.5 {
				t.Errorf("%s: vector score of %s = %v, want the new vector's high similarity",
					when, tt.want, res.Hits[0].VectorScore)
			}
		}
	}
	check(ix, "after upsert")
	ix.Close()

	again := &countingEmbedder{Embedder: foldedEmbedder{}, name: "folded-512"}
	reloaded := openIndex(t, dir, Options{Embedder: again})
	if again.count() != 0 {
		t.Errorf("replaying the log embedded %d texts, want 0", again.count())
	}
	check(reloaded, "after reload")

	// A full write folds the overlay into the matrix and keeps the vectors.
	if err := reloaded.Delete(t.Context(), []string{catalog[0].ID}); err != nil {
		t.Fatal(err)
	}
	if rows := reloaded.cur.Load().vectors.denseRows; len(rows) != 0 {
		t.Errorf("dense overlay after a full write has %d rows, want 0", len(rows))
	}
	check(reloaded, "after a full write")
}
