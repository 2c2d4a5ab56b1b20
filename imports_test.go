package concierge_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/concierge-chat/concierge/"

// allowedImports lists, for each package, the Concierge packages it may
// import (test files excluded). Dependencies flow one way:
// web -> bot -> {memory, retrieval, scenario}; memory, retrieval, scenario,
// web/protocol and configs are leaves.
var allowedImports = map[string][]string{
	"cmd/concierge":   {"*"},
	"bot":             {"bot/llm", "bot/offer", "memory", "retrieval", "scenario"},
	"bot/llm":         {},
	"bot/llm/llmtest": {},
	"bot/offer":       {"scenario"},
	"memory":          {},
	"memory/memtest":  {"memory"},
	"retrieval":       {},
	"scenario":        {},
	"configs":         {},
	"web":             {"bot", "web/protocol", "web/admin", "web/static"},
	"web/admin":       {"memory"},
	"web/protocol":    {},
	"web/static":      {},
	"web/wstest":      {"web/protocol"},
	"":                {},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Skipf("go list is not available: %v", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], strings.TrimSuffix(module, "/")), "/")
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("package %q has no entry in allowedImports; add one that keeps the layout", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours || slices.Contains(allowed, "*") {
				continue
			}
			if !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, which the layout does not allow (allowed: %v)", pkg, dep, allowed)
			}
		}
	}
}
