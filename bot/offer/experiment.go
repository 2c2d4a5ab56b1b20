package offer

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"gopkg.in/yaml.v3"
)

// Personalisation levels a variant may set.
const (
	PersonalizeNone     = "none"     // no offer ranking by context: priority order only
	PersonalizeScenario = "scenario" // scenario-aware eligibility and ranking, no user memory
	PersonalizeFull     = "full"     // scenario plus the user's memory and segment
)

// Experiment splits users into variants by a stable hash of the user id.
type Experiment struct {
	ID       string    `json:"id"`
	Control  string    `json:"control"` // name of the control variant; the first variant when empty in YAML
	Variants []Variant `json:"variants"`
}

// Variant is one arm of an experiment.
type Variant struct {
	Name        string  `json:"name"`
	Weight      float64 `json:"weight"`      // relative share of users; weights need not sum to 1
	Personalize string  `json:"personalize"` // PersonalizeNone, PersonalizeScenario or PersonalizeFull
}

type experimentsFile struct {
	Experiments []experimentYAML `yaml:"experiments"`
}

type experimentYAML struct {
	ID       string        `yaml:"id"`
	Control  string        `yaml:"control"`
	Variants []variantYAML `yaml:"variants"`
}

type variantYAML struct {
	Name        string  `yaml:"name"`
	Weight      float64 `yaml:"weight"`
	Personalize string  `yaml:"personalize"`
}

// ParseExperiments decodes an experiments document (a top-level
// "experiments" list) and validates it. Unknown keys are errors. The
// returned error joins one error per invalid field, each wrapping
// ErrInvalidConfig.
func ParseExperiments(data []byte) ([]Experiment, error) {
	var file experimentsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("decode experiments: %w", err)
	}

	var errs []error
	fail := func(id, msg string) {
		errs = append(errs, fmt.Errorf("%w: experiment %s: %s", ErrInvalidConfig, id, msg))
	}
	seen := make(map[string]bool)
	exps := make([]Experiment, 0, len(file.Experiments))
	for i, raw := range file.Experiments {
		name := raw.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		if !idPattern.MatchString(raw.ID) {
			fail(name, fmt.Sprintf("id: invalid id %q; use 1-64 lowercase letters, digits, '_' or '-'", raw.ID))
		} else if seen[raw.ID] {
			fail(name, "id: duplicate id; give each experiment a unique id")
		}
		seen[raw.ID] = true

		e := Experiment{ID: raw.ID, Control: raw.Control}
		for _, msg := range convertVariants(&e, raw.Variants) {
			fail(name, msg)
		}
		exps = append(exps, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return exps, nil
}

func convertVariants(e *Experiment, raw []variantYAML) []string {
	var errs []string
	if len(raw) == 0 {
		return []string{"variants: missing; add at least one variant"}
	}
	levels := []string{PersonalizeNone, PersonalizeScenario, PersonalizeFull}
	names := make(map[string]bool)
	for _, v := range raw {
		switch {
		case v.Name == "":
			errs = append(errs, "variants.name: missing; name every variant")
		case names[v.Name]:
			errs = append(errs, fmt.Sprintf("variants.name: duplicate name %q; give each variant a unique name", v.Name))
		}
		names[v.Name] = true
		if !(v.Weight > 0) || math.IsInf(v.Weight, 0) {
			errs = append(errs, fmt.Sprintf("variants.%s.weight: invalid weight %g; use a positive number", v.Name, v.Weight))
		}
		if !slices.Contains(levels, v.Personalize) {
			errs = append(errs, fmt.Sprintf("variants.%s.personalize: unknown value %q; use none, scenario or full", v.Name, v.Personalize))
		}
		e.Variants = append(e.Variants, Variant(v))
	}
	if e.Control == "" {
		e.Control = raw[0].Name
	} else if !names[e.Control] {
		errs = append(errs, fmt.Sprintf("control: no variant named %q; name one of the variants", e.Control))
	}
	return errs
}

// Assign returns the variant of exp for userID. The same experiment id and
// user id always give the same variant, and over many users each variant's
// share approaches its weight divided by the total weight. Variants with a
// weight of zero or less are never assigned. Assign returns the zero Variant
// when no variant has a positive weight.
func Assign(exp Experiment, userID string) Variant {
	total := 0.0
	for _, v := range exp.Variants {
		total += max(v.Weight, 0)
	}
	if !(total > 0) {
		return Variant{}
	}

	h := fnv.New64a()
	h.Write([]byte(exp.ID))
	h.Write([]byte{0}) // keeps "ab"+"c" and "a"+"bc" apart
	h.Write([]byte(userID))
	// FNV-1a barely changes its high bits when only the last bytes of the
	// input differ (user-1, user-2, ...), so a 64-bit finaliser mixes every
	// input bit into the top 53 bits that make the uniform float in [0, 1).
	u := float64(mix64(h.Sum64())>>11) / (1 << 53)

	target := u * total
	last := Variant{}
	for _, v := range exp.Variants {
		if v.Weight <= 0 {
			continue
		}
		if target < v.Weight {
			return v
		}
		target -= v.Weight
		last = v
	}
	return last // reached only through rounding in the subtraction
}

// mix64 is the 64-bit finaliser of MurmurHash3 (fmix64): xor-shifts and two
// odd multiplications that spread every input bit over the output.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
