package offer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAssignStable(t *testing.T) {
	exp := Experiment{ID: "personalization", Variants: []Variant{
		{Name: "none", Weight: 1}, {Name: "scenario", Weight: 1}, {Name: "full", Weight: 1},
	}}
	for i := range 100 {
		user := fmt.Sprintf("user-%d", i)
		first := Assign(exp, user)
		if again := Assign(exp, user); again != first {
			t.Fatalf("Assign(%s) = %v then %v", user, first, again)
		}
	}
}

func TestAssignRespectsWeights(t *testing.T) {
	exp := Experiment{ID: "weights", Variants: []Variant{
		{Name: "a", Weight: 1}, {Name: "b", Weight: 1}, {Name: "c", Weight: 2}, {Name: "off", Weight: 0},
	}}
	const n = 10000
	counts := map[string]int{}
	for i := range n {
		counts[Assign(exp, fmt.Sprintf("user-%d", i)).Name]++
	}
	if counts["off"] != 0 {
		t.Errorf("zero-weight variant got %d users", counts["off"])
	}
	expected := map[string]float64{"a": n / 4, "b": n / 4, "c": n / 2}
	chi2 := 0.0
	for name, e := range expected {
		d := float64(counts[name]) - e
		chi2 += d * d / e
	}
	// 13.82 is the 0.999 quantile of chi-square with 2 degrees of freedom.
	if chi2 > 13.82 {
		t.Errorf("counts %v give chi-square %.2f > 13.82 against weights 1:1:2", counts, chi2)
	}
}

func TestAssignIndependentAcrossExperiments(t *testing.T) {
	vs := []Variant{{Name: "x", Weight: 1}, {Name: "y", Weight: 1}}
	same := 0
	for i := range 1000 {
		u := fmt.Sprintf("user-%d", i)
		if Assign(Experiment{ID: "e1", Variants: vs}, u) == Assign(Experiment{ID: "e2", Variants: vs}, u) {
			same++
		}
	}
	// Independent 50/50 splits agree on about half the users.
	if same < 430 || same > 570 {
		t.Errorf("two experiments agree on %d of 1000 users, expected about 500", same)
	}
}

func TestAssignNoVariants(t *testing.T) {
	if v := Assign(Experiment{ID: "e"}, "u"); v != (Variant{}) {
		t.Errorf("Assign with no variants = %+v, expected the zero Variant", v)
	}
}

func TestParseExperimentsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string
	}{
		{"unknown_key", "experiments:\n  - id: e\n    varients: []\n", []string{"varients"}},
		{
			"variant_fields",
			`experiments:
  - id: e
    control: missing
    variants:
      - {name: a, weight: 0, personalize: some}
      - {name: a, weight: 1, personalize: none}
      - {weight: 1, personalize: full}
`,
			[]string{
				"experiment e: variants.a.weight: invalid weight 0",
				"experiment e: variants.a.personalize: unknown value \"some\"",
				"experiment e: variants.name: duplicate name \"a\"",
				"experiment e: variants.name: missing",
				"experiment e: control: no variant named \"missing\"",
			},
		},
		{"no_variants", "experiments:\n  - id: e\n", []string{"experiment e: variants: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseExperiments([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseExperiments succeeded, expected %q", tt.wants)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestParseExperimentsDefaultControl(t *testing.T) {
	exps, err := ParseExperiments([]byte("experiments:\n  - id: e\n    variants:\n      - {name: base, weight: 1, personalize: none}\n      - {name: new, weight: 1, personalize: full}\n"))
	if err != nil {
		t.Fatalf("ParseExperiments: %v", err)
	}
	if exps[0].Control != "base" {
		t.Errorf("Control = %q, expected the first variant base", exps[0].Control)
	}
	_, err = ParseExperiments([]byte("experiments:\n  - id: Bad\n    variants:\n      - {name: a, weight: 1, personalize: none}\n"))
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("invalid id error %v does not wrap ErrInvalidConfig", err)
	}
}
