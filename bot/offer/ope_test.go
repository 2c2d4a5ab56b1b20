package offer

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// syntheticBanditLog writes a uniform-random log in the Open Bandit layout
// over 5 items where users with u0=x click item 2 half the time, users with
// u0=y click item 4 half the time, and everything else gets 2%.
func syntheticBanditLog(rows int, seed uint64) (logCSV, itemsCSV string) {
	const items = 5
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString(",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1")
	for i := range items {
		fmt.Fprintf(&b, ",user-item_affinity_%d", i)
	}
	b.WriteString("\n")
	for r := range rows {
		user := "x"
		best := 2
		if rng.IntN(2) == 0 {
			user, best = "y", 4
		}
		item := rng.IntN(items)
		p := 0.02
		if item == best {
			p = 0.5
		}
		click := 0
		if rng.Float64() < p {
			click = 1
		}
		fmt.Fprintf(&b, "%d,2026-01-01 00:00:00+00:00,%d,%d,%d,%g,%s,%s", r, item, 1+rng.IntN(3), click, 1.0/items, user, "same")
		for range items {
			b.WriteString(",0.0")
		}
		b.WriteString("\n")
	}

	var it strings.Builder
	it.WriteString(",item_id,item_feature_0,item_feature_1\n")
	for i := range items {
		fmt.Fprintf(&it, "%d,%d,%g,cat%d\n", i, i, float64(i)/10, i%2)
	}
	return b.String(), it.String()
}

func TestEvalOffersRecoversKnownPolicy(t *testing.T) {
	logCSV, itemsCSV := syntheticBanditLog(6000, 3)
	var out bytes.Buffer
	res, err := EvalOffers(strings.NewReader(logCSV), strings.NewReader(itemsCSV), &out, OPEOptions{Bootstrap: 300})
	if err != nil {
		t.Fatalf("EvalOffers: %v", err)
	}
	t.Logf("output:\n%s", out.String())

	// The best policy's true CTR is 0.5 and the logged policy's is 0.116.
	if res.SNIPW < 0.4 || res.SNIPW > 0.6 {
		t.Errorf("SNIPW = %g, expected about 0.5", res.SNIPW)
	}
	if res.IPW < 0.35 || res.IPW > 0.65 {
		t.Errorf("IPW = %g, expected about 0.5", res.IPW)
	}
	if !(res.CILow <= res.SNIPW && res.SNIPW <= res.CIHigh) {
		t.Errorf("interval [%g, %g] does not contain SNIPW %g", res.CILow, res.CIHigh, res.SNIPW)
	}
	if res.CILow <= res.LoggedCTR {
		t.Errorf("interval low %g not above logged CTR %g", res.CILow, res.LoggedCTR)
	}
	if res.CIMethod != "bootstrap" {
		t.Errorf("CIMethod = %q, expected bootstrap", res.CIMethod)
	}
	if res.TrainRows != 4200 || res.EvalRows != 1800 {
		t.Errorf("split %d/%d, expected 4200/1800", res.TrainRows, res.EvalRows)
	}
	checkOPELastLine(t, out.String(), res)
}

func checkOPELastLine(t *testing.T, out string, res OPEResult) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	re := regexp.MustCompile(`^policy_ctr_ipw=([0-9.]+) policy_ctr_snipw=([0-9.]+) ci95=\[([0-9.]+),([0-9.]+)\] logged_ctr=([0-9.]+)$`)
	m := re.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q does not match the expected format", last)
	}
	for i, want := range []float64{res.IPW, res.SNIPW, res.CILow, res.CIHigh, res.LoggedCTR} {
		got, _ := strconv.ParseFloat(m[i+1], 64)
		if d := got - want; d > 1e-5 || d < -1e-5 {
			t.Errorf("last line field %d = %g, result has %g", i+1, got, want)
		}
	}
}

func TestEvalOffersRejectsBadLogs(t *testing.T) {
	_, items := syntheticBanditLog(10, 1)
	tests := []struct {
		name string
		log  string
	}{
		{"missing_column", ",timestamp,item_id,position,click\n0,t,1,1,0\n"},
		{"item_out_of_range", ",timestamp,item_id,position,click,propensity_score\n0,t,9,1,0,0.2\n"},
		{"zero_propensity", ",timestamp,item_id,position,click,propensity_score\n0,t,1,1,0,0\n"},
		{"click_not_binary", ",timestamp,item_id,position,click,propensity_score\n0,t,1,1,3,0.2\n"},
		{"too_few_rows", ",timestamp,item_id,position,click,propensity_score\n0,t,1,1,0,0.2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EvalOffers(strings.NewReader(tt.log), strings.NewReader(items), &bytes.Buffer{}, OPEOptions{})
			if !errors.Is(err, ErrInvalidLog) {
				t.Errorf("EvalOffers = %v, expected ErrInvalidLog", err)
			}
		})
	}
}

// openBanditDir is the Open Bandit Dataset sample, read relative to this
// package directory.
var openBanditDir = filepath.Join("..", "..", "..", "shared", "data", "open-bandit")

func openBandit(t *testing.T, policy string) (logFile, itemFile *os.File) {
	t.Helper()
	dir := filepath.Join(openBanditDir, policy)
	logFile, err := os.Open(filepath.Join(dir, "men.csv"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Open Bandit Dataset not found at %s; the evaluation needs its %s/men.csv", openBanditDir, policy)
	}
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(func() { logFile.Close() })
	itemFile, err = os.Open(filepath.Join(dir, "men_item_context.csv"))
	if err != nil {
		t.Fatalf("open items: %v", err)
	}
	t.Cleanup(func() { itemFile.Close() })
	return logFile, itemFile
}

func TestEvalOffersOpenBandit(t *testing.T) {
	for _, policy := range []string{"random", "bts"} {
		t.Run(policy, func(t *testing.T) {
			logFile, itemFile := openBandit(t, policy)
			var out bytes.Buffer
			res, err := EvalOffers(logFile, itemFile, &out, OPEOptions{})
			if err != nil {
				t.Fatalf("EvalOffers: %v", err)
			}
			t.Logf("%s log:\n%s", policy, out.String())
			checkOPELastLine(t, out.String(), res)

			if res.Items != 34 || res.TrainRows+res.EvalRows != 10000 {
				t.Errorf("items %d, rows %d+%d, expected 34 items and 10000 rows", res.Items, res.TrainRows, res.EvalRows)
			}
			if want := float64(res.EvalClicks) / float64(res.EvalRows); res.LoggedCTR != want {
				t.Errorf("logged CTR %g, expected clicks/rows %g", res.LoggedCTR, want)
			}
			if !(res.CILow <= res.SNIPW && res.SNIPW <= res.CIHigh) {
				t.Errorf("interval [%g, %g] does not contain SNIPW %g", res.CILow, res.CIHigh, res.SNIPW)
			}
			if res.Matched == 0 {
				t.Error("the policy never matched the logged item, so the estimate is empty")
			}
		})
	}
}
