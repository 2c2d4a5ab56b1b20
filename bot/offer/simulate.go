package offer

import (
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// SimConfig configures Simulate. Zero fields take the defaults in brackets.
type SimConfig struct {
	Rounds   int     // impressions per policy [20000]
	Contexts int     // distinct context types [8]
	Offers   int     // offers to choose from [6]
	Dim      int     // length of each context's feature vector, bias included [12]
	Alpha    float64 // LinUCB exploration [DefaultAlpha]
	Epsilon  float64 // exploration rate of the context-free ε-greedy baseline [0.1]
	Seed     uint64  // seeds the environment and the policies [1]
}

// SimResult is the click-through rate of each policy in one simulation.
type SimResult struct {
	CTRLinUCB      float64 `json:"ctr_linucb"`
	CTRRandom      float64 `json:"ctr_random"`
	CTREGreedy     float64 `json:"ctr_egreedy"`
	CTROptimal     float64 `json:"ctr_optimal"` // expected CTR of an oracle that reads the hidden click probabilities
	RatioVsRandom  float64 `json:"ctr_ratio_vs_random"`
	RatioVsEGreedy float64 `json:"ctr_ratio_vs_egreedy"`
}

// simEnv is a synthetic store: context types with fixed feature vectors and
// a hidden click probability per context and offer. Policies see only the
// feature vector and the clicks they receive.
type simEnv struct {
	features [][]float64
	clickP   [][]float64
}

func newSimEnv(cfg SimConfig, rng *rand.Rand) *simEnv {
	env := &simEnv{}
	perm := rng.Perm(cfg.Offers)
	for i := range cfg.Contexts {
		x := make([]float64, cfg.Dim)
		for j := range cfg.Dim - 1 {
			x[j] = rng.Float64()
		}
		x[cfg.Dim-1] = 1
		env.features = append(env.features, x)

		// One offer is clearly best in each context (8% to 12% CTR), the
		// rest sit at a typical 1% to 4%. Cycling through a permutation
		// makes every offer best somewhere, so no single offer wins overall.
		p := make([]float64, cfg.Offers)
		for a := range p {
			p[a] = 0.01 + 0.03*rng.Float64()
		}
		p[perm[i%cfg.Offers]] = 0.08 + 0.04*rng.Float64()
		env.clickP = append(env.clickP, p)
	}
	return env
}

type simPolicy interface {
	choose(x []float64) int
	update(x []float64, offer int, reward float64)
}

type linUCBPolicy struct {
	arms  []*arm
	alpha float64
}

func (p *linUCBPolicy) choose(x []float64) int {
	v := mat.NewVecDense(len(x), x)
	best, bestScore := 0, 0.0
	for a, m := range p.arms {
		if s := m.score(v, p.alpha); a == 0 || s > bestScore {
			best, bestScore = a, s
		}
	}
	return best
}

func (p *linUCBPolicy) update(x []float64, offer int, reward float64) {
	v := mat.NewVecDense(len(x), x)
	p.arms[offer].observe(v)
	p.arms[offer].reward(v, reward)
}

type randomPolicy struct {
	offers int
	rng    *rand.Rand
}

func (p *randomPolicy) choose([]float64) int           { return p.rng.IntN(p.offers) }
func (p *randomPolicy) update([]float64, int, float64) {}

// epsilonGreedyPolicy ignores the context: with probability epsilon it
// explores uniformly, otherwise it shows the offer with the best mean reward.
type epsilonGreedyPolicy struct {
	epsilon float64
	pulls   []float64
	rewards []float64
	rng     *rand.Rand
}

func (p *epsilonGreedyPolicy) choose([]float64) int {
	if p.rng.Float64() < p.epsilon {
		return p.rng.IntN(len(p.pulls))
	}
	best, bestMean := 0, -1.0
	for a := range p.pulls {
		mean := 1.0 // untried offers first
		if p.pulls[a] > 0 {
			mean = p.rewards[a] / p.pulls[a]
		}
		if mean > bestMean {
			best, bestMean = a, mean
		}
	}
	return best
}

func (p *epsilonGreedyPolicy) update(_ []float64, offer int, reward float64) {
	p.pulls[offer]++
	p.rewards[offer] += reward
}

// Simulate runs LinUCB, uniform random and context-free ε-greedy against the
// same synthetic environment and the same sequence of contexts, writes one
// line per policy to out, and ends with the line
// "ctr_ratio_vs_random=R ctr_ratio_vs_egreedy=S".
func Simulate(cfg SimConfig, out io.Writer) (SimResult, error) {
	cfg.Rounds = cmp.Or(cfg.Rounds, 20000)
	cfg.Contexts = cmp.Or(cfg.Contexts, 8)
	cfg.Offers = cmp.Or(cfg.Offers, 6)
	cfg.Dim = cmp.Or(cfg.Dim, 12)
	cfg.Alpha = cmp.Or(cfg.Alpha, DefaultAlpha)
	cfg.Epsilon = cmp.Or(cfg.Epsilon, 0.1)
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	if cfg.Rounds < 0 || cfg.Contexts < 1 || cfg.Offers < 2 || cfg.Dim < 2 || cfg.Alpha < 0 || cfg.Epsilon < 0 || cfg.Epsilon > 1 {
		return SimResult{}, fmt.Errorf("simulate: invalid config %+v; need rounds >= 0, contexts >= 1, offers >= 2, dim >= 2, alpha >= 0, 0 <= epsilon <= 1", cfg)
	}

	env := newSimEnv(cfg, rand.New(rand.NewPCG(cfg.Seed, 1)))
	policyRNG := func() *rand.Rand { return rand.New(rand.NewPCG(cfg.Seed, 2)) }
	lin := &linUCBPolicy{alpha: cfg.Alpha}
	for range cfg.Offers {
		lin.arms = append(lin.arms, newArm(cfg.Dim))
	}
	eg := &epsilonGreedyPolicy{epsilon: cfg.Epsilon, pulls: make([]float64, cfg.Offers),
		rewards: make([]float64, cfg.Offers), rng: policyRNG()}

	var res SimResult
	res.CTRLinUCB = runSim(env, lin, cfg)
	res.CTRRandom = runSim(env, &randomPolicy{offers: cfg.Offers, rng: policyRNG()}, cfg)
	res.CTREGreedy = runSim(env, eg, cfg)
	res.CTROptimal = optimalCTR(env)
	if res.CTRRandom > 0 {
		res.RatioVsRandom = res.CTRLinUCB / res.CTRRandom
	}
	if res.CTREGreedy > 0 {
		res.RatioVsEGreedy = res.CTRLinUCB / res.CTREGreedy
	}

	_, err := fmt.Fprintf(out, "rounds=%d contexts=%d offers=%d dim=%d alpha=%g epsilon=%g seed=%d\n"+
		"policy=linucb ctr=%.4f\npolicy=random ctr=%.4f\npolicy=egreedy ctr=%.4f\npolicy=oracle ctr=%.4f\n"+
		"ctr_ratio_vs_random=%.3f ctr_ratio_vs_egreedy=%.3f\n",
		cfg.Rounds, cfg.Contexts, cfg.Offers, cfg.Dim, cfg.Alpha, cfg.Epsilon, cfg.Seed,
		res.CTRLinUCB, res.CTRRandom, res.CTREGreedy, res.CTROptimal,
		res.RatioVsRandom, res.RatioVsEGreedy)
	if err != nil {
		return res, fmt.Errorf("write simulation result: %w", err)
	}
	return res, nil
}

// runSim plays cfg.Rounds rounds. Every policy gets the same context
// sequence and the same uniform draws for clicks, so differences come from
// the choices alone.
func runSim(env *simEnv, p simPolicy, cfg SimConfig) float64 {
	rng := rand.New(rand.NewPCG(cfg.Seed, 3))
	clicks := 0
	for range cfg.Rounds {
		c := rng.IntN(len(env.features))
		u := rng.Float64()
		x := env.features[c]
		a := p.choose(x)
		reward := 0.0
		if u < env.clickP[c][a] {
			reward = 1
			clicks++
		}
		p.update(x, a, reward)
	}
	if cfg.Rounds == 0 {
		return 0
	}
	return float64(clicks) / float64(cfg.Rounds)
}

// optimalCTR is the expected CTR of always showing each context's best offer.
func optimalCTR(env *simEnv) float64 {
	sum := 0.0
	for _, p := range env.clickP {
		sum += slices.Max(p)
	}
	return sum / float64(len(env.clickP))
}
