package retrieval

import (
	"testing"
)

func TestSearchBudget(t *testing.T) {
	ix := openIndex(t, "", Options{})
	if err := ix.Upsert(t.Context(), loadFixture(t)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		query      Query
		wantTop    string
		wantBudget float64
	}{
		{"no_budget_keeps_relevance_order", Query{Text: "hiking boots"}, "p-boot-1", 0},
		{"budget_ranks_cheaper_first", Query{Text: "hiking boots", Budget: 100}, "p-boot-2", 100},
		{"budget_above_both_keeps_order", Query{Text: "hiking boots", Budget: 500}, "p-boot-1", 500},
		{"text_bound_replaces_budget", Query{Text: "hiking boots under 200", Budget: 100}, "p-boot-1", 0},
		{"filter_bound_replaces_budget", Query{Text: "hiking boots", Budget: 100,
			Filter: Filter{MaxPrice: 200}}, "p-boot-1", 0},
		{"budget_without_words", Query{Budget: 20}, "p-mug-1", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(t.Context(), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 {
				t.Fatalf("Search(%+v) returned no hits", tt.query)
			}
			if got := res.Hits[0].Product.ID; got != tt.wantTop {
				t.Errorf("Search(%+v) top = %s, want %s (hits %v)", tt.query, got, tt.wantTop, hitIDs(res))
			}
			if res.Budget != tt.wantBudget {
				t.Errorf("Result.Budget = %v, want %v", res.Budget, tt.wantBudget)
			}
			if res.Budget == 0 {
				return
			}
			// Every product within budget comes before every product over it.
			over := false
			for _, h := range res.Hits {
				within := withinBudget(&h.Product, res.Budget)
				if within && over {
					t.Errorf("hit %s within budget %v follows one over it: %v", h.Product.ID, res.Budget, hitIDs(res))
				}
				over = over || !within
			}
		})
	}
}

func TestSearchBudgetKeepsPricierHits(t *testing.T) {
	ix := openIndex(t, "", Options{})
	if err := ix.Upsert(t.Context(), loadFixture(t)); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(t.Context(), Query{Text: "boots", Budget: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, h := range res.Hits {
		found[h.Product.ID] = true
	}
	if !found["p-boot-1"] || !found["p-boot-2"] {
		t.Errorf("Search(boots, budget 50) = %v, want both boots kept although both cost more", hitIDs(res))
	}
}
