package retrieval

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// homeDepotDir is the Home Depot search relevance set, used for evaluation
// only and never copied into the repository.
const homeDepotDir = "../../shared/data/homedepot-search-relevance"

// TestEvalHomeDepot runs the retrieval evaluation on the Home Depot set. It
// indexes 54,667 products (about 10 s, minutes under -race), so it runs only
// when asked for:
// RETRIEVAL_EVAL=1 go test -run TestEvalHomeDepot -v ./retrieval
func TestEvalHomeDepot(t *testing.T) {
	if os.Getenv("RETRIEVAL_EVAL") == "" || testing.Short() {
		t.Skip("set RETRIEVAL_EVAL=1 to run the Home Depot evaluation")
	}
	if _, err := os.Stat(homeDepotDir); err != nil {
		t.Skipf("Home Depot evaluation data not found at %s", homeDepotDir)
	}
	open := func(name string) *os.File {
		t.Helper()
		f, err := os.Open(filepath.Join(homeDepotDir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	var out bytes.Buffer
	m, err := EvalRetrieval(t.Context(), open("products.csv"), open("queries.csv"), open("judgments.csv"), &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(out.String()))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "queries=") {
		t.Errorf("last line = %q, want it to start with queries=", last)
	}
	if m.NDCGAt < 0.40 {
		t.Errorf("ndcg@10 = %.4f, want at least 0.40", m.NDCGAt)
	}
}
