package scenario

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"
)

func cliHoldout(text string) bool {
	sum := md5.Sum([]byte(text))
	v, _ := strconv.ParseUint(hex.EncodeToString(sum[:])[8:16], 16, 64)
	return float64(v%1000) < 200
}

func validationHoldout(text string) bool {
	sum := md5.Sum([]byte(text))
	v, _ := strconv.ParseUint(hex.EncodeToString(sum[:])[16:24], 16, 64)
	return v%5 == 0
}

func splitWith(all []Example, held func(string) bool) (train, test []Example) {
	for _, ex := range all {
		if held(ex.Text) {
			test = append(test, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, test
}

func TestTuneValidation(t *testing.T) {
	if os.Getenv("CONCIERGE_TUNE") == "" {
		t.Skip("set CONCIERGE_TUNE")
	}
	sets := map[string][]Example{}
	clincTrain, _ := loadCLINC(t)
	sets["clinc"] = clincTrain
	b, err := ReadExamples(openFile(t, requireEvalData(t, "banking77/train.csv")), "csv", "text", "category")
	if err != nil {
		t.Fatal(err)
	}
	sets["banking"], _ = splitWith(b, cliHoldout)
	sets["reviews"], _ = splitWith(loadShoppingReviews(t), cliHoldout)
	sets["goemo"] = loadGoEmotionsEkman(t, "train.tsv")
	only := os.Getenv("CONCIERGE_TUNE_SETS")
	for _, name := range []string{"banking", "clinc", "reviews", "goemo"} {
		if only != "" && !contains(only, name) {
			continue
		}
		train, val := splitWith(sets[name], validationHoldout)
		for _, v := range variants() {
			v.apply()
			start := time.Now()
			opts := v.opts
			if name != "clinc" {
				opts.OOSThreshold = -1
			}
			var out discard
			rep, err := EvalClassify(train, val, opts, out)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-8s %-30s acc=%.4f f1=%.4f oos=%.4f th=%.2f time=%s", name, v.name, rep.Accuracy, rep.MacroF1, rep.OOSRecall, rep.Threshold, time.Since(start).Round(time.Millisecond))
		}
	}
}

func contains(list, name string) bool {
	for _, f := range splitComma(list) {
		if f == name {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type variant struct {
	name  string
	opts  ClassifierOptions
	apply func()
}

func variants() []variant {
	var out []variant
	add := func(name string, opts ClassifierOptions, avg bool, sub, idf bool) {
		out = append(out, variant{name, opts, func() {
			expTrigram, expSkip, expCrossChar = false, false, false
			expAverage, expSublinear, expIDF = avg, sub, idf
		}})
	}
	add("old", ClassifierOptions{}, false, false, false)
	add("sub idf", ClassifierOptions{}, false, true, true)
	add("sub idf avg ep20", ClassifierOptions{Epochs: 20}, true, true, true)
	return out
}
