package scenario

import (
	"bufio"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sharedData is the evaluation data folder, relative to this package.
const sharedData = "../../shared/data"

// requireEvalData skips the test unless evaluations were requested with
// CONCIERGE_EVAL=1 and the data folder exists. The evaluations train on
// thousands of examples and take seconds, too slow for the default run.
func requireEvalData(t testing.TB, rel string) string {
	t.Helper()
	if os.Getenv("CONCIERGE_EVAL") != "1" {
		t.Skip("set CONCIERGE_EVAL=1 to run evaluations on " + sharedData)
	}
	path := filepath.Join(sharedData, rel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("evaluation data %s is absent: %v", path, err)
	}
	return path
}

// hashHeldOut reports whether key falls in a held-out 20%: bucket 0 of the
// md5 hex digits 8 to 16 modulo 5. The shared copies were cut with digits 0
// to 8, so that rule would leave no test rows here; the next digits give an
// independent split.
func hashHeldOut(key string) bool {
	sum := md5.Sum([]byte(key))
	n, err := strconv.ParseUint(hex.EncodeToString(sum[:])[8:16], 16, 64)
	if err != nil {
		panic(err)
	}
	return n%5 == 0
}

func splitByHash(examples []Example) (train, test []Example) {
	for _, ex := range examples {
		if hashHeldOut(ex.Text) {
			test = append(test, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, test
}

func openFile(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func loadCLINC(t testing.TB) (train, test []Example) {
	t.Helper()
	path := requireEvalData(t, "clinc150/data_full_train_val.json")
	var data map[string][][2]string
	if err := json.NewDecoder(openFile(t, path)).Decode(&data); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	pairs := func(keys ...string) []Example {
		var out []Example
		for _, k := range keys {
			for _, p := range data[k] {
				out = append(out, Example{Text: p[0], Label: p[1]})
			}
		}
		return out
	}
	return pairs("train", "oos_train"), pairs("val", "oos_val")
}

func loadGoEmotionsEkman(t testing.TB, file string) []Example {
	t.Helper()
	dir := requireEvalData(t, "goemotions/ekman")
	names, err := os.ReadFile(filepath.Join(dir, "labels.txt"))
	if err != nil {
		t.Fatalf("read labels: %v", err)
	}
	labels := strings.Fields(string(names))
	var out []Example
	sc := bufio.NewScanner(openFile(t, filepath.Join(dir, file)))
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || strings.Contains(cols[1], ",") {
			continue // single-label rows only
		}
		id, err := strconv.Atoi(cols[1])
		if err != nil || id < 0 || id >= len(labels) {
			t.Fatalf("bad label %q in %s", cols[1], file)
		}
		out = append(out, Example{Text: cols[0], Label: labels[id]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan %s: %v", file, err)
	}
	return out
}

func loadShoppingReviews(t testing.TB) []Example {
	t.Helper()
	path := requireEvalData(t, "online-shopping-10-cats/online_shopping_10_cats.csv")
	r := csv.NewReader(openFile(t, path))
	if _, err := r.Read(); err != nil {
		t.Fatalf("read header: %v", err)
	}
	var out []Example
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		out = append(out, Example{Text: rec[2], Label: rec[1]})
	}
	return out
}

func runEval(t *testing.T, name string, train, test []Example, opts ClassifierOptions) ClassifyReport {
	t.Helper()
	var out strings.Builder
	rep, err := EvalClassify(train, test, opts, &out)
	if err != nil {
		t.Fatalf("EvalClassify(%s): %v", name, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	t.Logf("%s: %s | %s", name, lines[0], lines[len(lines)-1])
	return rep
}

func TestEvalCLINC150(t *testing.T) {
	train, test := loadCLINC(t)
	rep := runEval(t, "clinc150", train, test, ClassifierOptions{})
	if rep.Accuracy < 0.85 {
		t.Errorf("in-scope accuracy = %.4f, want >= 0.85", rep.Accuracy)
	}
}

func TestEvalBanking77(t *testing.T) {
	path := requireEvalData(t, "banking77/train.csv")
	all, err := ReadExamples(openFile(t, path), "csv", "text", "category")
	if err != nil {
		t.Fatal(err)
	}
	train, test := splitByHash(all)
	rep := runEval(t, "banking77", train, test, ClassifierOptions{OOSThreshold: -1})
	if rep.Accuracy < 0.8 {
		t.Errorf("accuracy = %.4f, want >= 0.8", rep.Accuracy)
	}
}

func TestEvalShoppingReviews(t *testing.T) {
	train, test := splitByHash(loadShoppingReviews(t))
	rep := runEval(t, "online_shopping_10_cats", train, test, ClassifierOptions{OOSThreshold: -1})
	if rep.Accuracy < 0.85 {
		t.Errorf("accuracy = %.4f, want >= 0.85", rep.Accuracy)
	}
}

func TestEvalGoEmotionsEkman(t *testing.T) {
	train := loadGoEmotionsEkman(t, "train.tsv")
	test := loadGoEmotionsEkman(t, "dev.tsv")
	rep := runEval(t, "goemotions_ekman", train, test, ClassifierOptions{OOSThreshold: -1})
	if rep.MacroF1 < 0.3 {
		t.Errorf("macro-F1 = %.4f, want >= 0.3", rep.MacroF1)
	}
}

func TestEvalSegmentRetail(t *testing.T) {
	tests := []struct {
		name, file string
	}{
		{name: "uci_online_retail", file: "uci-online-retail/online_retail_customers_mod4eq0.csv"},
		{name: "cdnow", file: "cdnow-transactions/CDNOW_master.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := requireEvalData(t, tc.file)
			var out strings.Builder
			seg, err := EvalSegment(openFile(t, path), 4, &out)
			if err != nil {
				t.Fatalf("EvalSegment(%s): %v", path, err)
			}
			t.Logf("%s:\n%s", tc.name, out.String())
			if seg.Silhouette <= 0 {
				t.Errorf("silhouette = %.4f, want > 0", seg.Silhouette)
			}
		})
	}
}

// validationHeldOut reports whether text falls in a validation 20% carved
// out of a training set, by md5 hex digits 16 to 24 modulo 5. The test
// splits above and the -holdout split of concierge eval classify use
// digits 8 to 16, so the validation split is independent of them.
func validationHeldOut(text string) bool {
	sum := md5.Sum([]byte(text))
	n, err := strconv.ParseUint(hex.EncodeToString(sum[:])[16:24], 16, 64)
	if err != nil {
		panic(err)
	}
	return n%5 == 0
}

// cliHeldOut reports whether text falls in the 20% test part of
// concierge eval classify -holdout 0.2.
func cliHeldOut(text string) bool {
	sum := md5.Sum([]byte(text))
	n, err := strconv.ParseUint(hex.EncodeToString(sum[:])[8:16], 16, 64)
	if err != nil {
		panic(err)
	}
	return n%1000 < 200
}

// splitBy partitions examples by whether held reports their text.
func splitBy(examples []Example, held func(string) bool) (rest, heldOut []Example) {
	for _, ex := range examples {
		if held(ex.Text) {
			heldOut = append(heldOut, ex)
		} else {
			rest = append(rest, ex)
		}
	}
	return rest, heldOut
}

// TestValidationSplits scores the default classifier on validation splits
// carved out of each training part, leaving the test parts that
// docs/benchmarks.md reports untouched. Compare training methods here.
func TestValidationSplits(t *testing.T) {
	clincTrain, _ := loadCLINC(t)
	banking, err := ReadExamples(openFile(t, requireEvalData(t, "banking77/train.csv")), "csv", "text", "category")
	if err != nil {
		t.Fatal(err)
	}
	bankingTrain, _ := splitBy(banking, cliHeldOut)
	reviewsTrain, _ := splitBy(loadShoppingReviews(t), cliHeldOut)
	tests := []struct {
		name  string
		train []Example
		opts  ClassifierOptions
	}{
		{name: "clinc150", train: clincTrain},
		{name: "banking77", train: bankingTrain, opts: ClassifierOptions{OOSThreshold: -1}},
		{name: "online_shopping_10_cats", train: reviewsTrain, opts: ClassifierOptions{OOSThreshold: -1}},
		{name: "goemotions_ekman", train: loadGoEmotionsEkman(t, "train.tsv"), opts: ClassifierOptions{OOSThreshold: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, validation := splitBy(tc.train, validationHeldOut)
			rep := runEval(t, tc.name, train, validation, tc.opts)
			if rep.MacroF1 <= 0 {
				t.Errorf("macro-F1 = %.4f on the validation split, want > 0", rep.MacroF1)
			}
		})
	}
}
