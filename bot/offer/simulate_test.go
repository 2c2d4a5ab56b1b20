package offer

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSimulateBeatsBaselines(t *testing.T) {
	var out bytes.Buffer
	res, err := Simulate(SimConfig{}, &out)
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	t.Logf("simulation output:\n%s", out.String())

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^ctr_ratio_vs_random=([0-9.]+) ctr_ratio_vs_egreedy=([0-9.]+)$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q does not match the expected format", last)
	}
	r, _ := strconv.ParseFloat(m[1], 64)
	s, _ := strconv.ParseFloat(m[2], 64)
	if r < 1.6 {
		t.Errorf("ctr_ratio_vs_random = %g, expected >= 1.6", r)
	}
	if s <= 1 {
		t.Errorf("ctr_ratio_vs_egreedy = %g, expected > 1", s)
	}
	if res.CTRLinUCB > res.CTROptimal {
		t.Errorf("LinUCB CTR %g above the oracle's expected %g", res.CTRLinUCB, res.CTROptimal)
	}
	if res.CTRRandom <= 0 || res.CTREGreedy <= 0 {
		t.Errorf("baseline CTRs %g and %g, expected positive", res.CTRRandom, res.CTREGreedy)
	}
}

func TestSimulateIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	cfg := SimConfig{Rounds: 2000, Seed: 5}
	if _, err := Simulate(cfg, &a); err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	if _, err := Simulate(cfg, &b); err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	if a.String() != b.String() {
		t.Errorf("same seed gave different output:\n%s\n%s", a.String(), b.String())
	}
}

func TestSimulateRejectsInvalidConfig(t *testing.T) {
	if _, err := Simulate(SimConfig{Offers: 1}, &bytes.Buffer{}); err == nil {
		t.Error("Simulate accepted a single offer")
	}
	if _, err := Simulate(SimConfig{Epsilon: 2}, &bytes.Buffer{}); err == nil {
		t.Error("Simulate accepted epsilon 2")
	}
}
