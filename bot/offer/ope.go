package offer

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// ErrInvalidLog is wrapped by EvalOffers errors about the content of the
// log or item file.
var ErrInvalidLog = errors.New("invalid bandit log")

// OPEOptions configures EvalOffers. Zero fields take the defaults in brackets.
type OPEOptions struct {
	// TrainFraction is the leading share of log rows used to train the
	// policy. The remaining rows evaluate it [0.7].
	TrainFraction float64
	// Position keeps only rows logged at that slot (1-based). Zero keeps all
	// slots and treats each row as a separate one-slot decision, so the
	// estimate is the policy's CTR averaged over the slots as they were logged.
	Position int
	// HashBuckets is the size of the hashed one-hot feature space [128].
	HashBuckets int
	Bootstrap   int    // bootstrap resamples for the interval [1000]
	Seed        uint64 // seeds the bootstrap [1]
}

// OPEResult is the off-policy estimate of the trained policy's CTR.
type OPEResult struct {
	Items         int     `json:"items"`
	TrainRows     int     `json:"train_rows"`
	EvalRows      int     `json:"eval_rows"`
	EvalClicks    int     `json:"eval_clicks"`
	Matched       int     `json:"matched"`        // evaluation rows where the policy chose the logged item
	MatchedClicks int     `json:"matched_clicks"` // clicks among those rows
	IPW           float64 `json:"policy_ctr_ipw"`
	SNIPW         float64 `json:"policy_ctr_snipw"`
	CILow         float64 `json:"ci95_low"`
	CIHigh        float64 `json:"ci95_high"`
	// CIMethod is "bootstrap" for the 2.5th and 97.5th percentiles of SNIPW
	// over resampled rows, or "wilson_zero_clicks" when no matched row was
	// clicked and the interval is the Wilson interval of 0 in Matched.
	CIMethod  string  `json:"ci95_method"`
	LoggedCTR float64 `json:"logged_ctr"` // clicks per row of the evaluation rows
}

type logRow struct {
	item       int
	click      float64
	propensity float64
	tokens     []string // "u<k>=<value>" for each user feature
	affinity   []float64
}

type itemInfo struct {
	tokens  []string  // categorical item features as "i<k>=<value>"
	numbers []float64 // numeric item features
}

// EvalOffers estimates, from a log of a logging policy, the CTR that a
// LinUCB-trained greedy policy would get. It reads the Open Bandit Dataset
// layout: logs with item_id, position, click, propensity_score,
// user_feature_* and user-item_affinity_* columns, and items with item_id
// and item_feature_* columns. The policy is a shared linear model over
// hashed one-hot user features, item features, user-feature-by-item crosses
// and the user's affinity for the item, trained on the first
// opts.TrainFraction of the rows. On the remaining rows EvalOffers computes
// IPW = mean(1[π(x)=a]·r/p), SNIPW = Σ1[π(x)=a]·r/p / Σ1[π(x)=a]/p and a
// percentile bootstrap 95% interval for SNIPW. The last line written to out
// is "policy_ctr_ipw=X policy_ctr_snipw=Y ci95=[L,U] logged_ctr=Z".
func EvalOffers(logs io.Reader, items io.Reader, out io.Writer, opts OPEOptions) (OPEResult, error) {
	opts.TrainFraction = cmp.Or(opts.TrainFraction, 0.7)
	opts.HashBuckets = cmp.Or(opts.HashBuckets, 128)
	opts.Bootstrap = cmp.Or(opts.Bootstrap, 1000)
	opts.Seed = cmp.Or(opts.Seed, 1)
	if opts.TrainFraction <= 0 || opts.TrainFraction >= 1 || opts.HashBuckets < 1 || opts.Bootstrap < 1 || opts.Position < 0 {
		return OPEResult{}, fmt.Errorf("evaluate offers: invalid options %+v; need 0 < train fraction < 1, positive buckets and resamples, position >= 0", opts)
	}

	catalog, err := readItems(items)
	if err != nil {
		return OPEResult{}, err
	}
	rows, err := readLog(logs, opts.Position, len(catalog))
	if err != nil {
		return OPEResult{}, err
	}
	split := int(float64(len(rows)) * opts.TrainFraction)
	if split == 0 || split == len(rows) {
		return OPEResult{}, fmt.Errorf("evaluate offers: %w: %d rows leave an empty training or evaluation part", ErrInvalidLog, len(rows))
	}

	enc := &opeEncoder{buckets: opts.HashBuckets, items: catalog}
	theta, err := trainShared(enc, rows[:split])
	if err != nil {
		return OPEResult{}, err
	}
	res := evaluate(enc, theta, rows[split:], opts)
	res.Items = len(catalog)
	res.TrainRows = split

	_, err = fmt.Fprintf(out, "items=%d train_rows=%d eval_rows=%d eval_clicks=%d position=%d\n"+
		"matched_rows=%d matched_clicks=%d bootstrap=%d seed=%d ci95_method=%s\n"+
		"policy_ctr_ipw=%.5f policy_ctr_snipw=%.5f ci95=[%.5f,%.5f] logged_ctr=%.5f\n",
		res.Items, res.TrainRows, res.EvalRows, res.EvalClicks, opts.Position,
		res.Matched, res.MatchedClicks, opts.Bootstrap, opts.Seed, res.CIMethod,
		res.IPW, res.SNIPW, res.CILow, res.CIHigh, res.LoggedCTR)
	if err != nil {
		return res, fmt.Errorf("write evaluation: %w", err)
	}
	return res, nil
}

// opeEncoder builds the feature vector of a (log row, item) pair: hashed
// one-hot tokens, then numeric item features, the affinity and a bias.
// Token buckets are cached because a log has few distinct feature values.
type opeEncoder struct {
	buckets int
	items   []itemInfo
	cache   map[string]int
}

func (e *opeEncoder) dim() int {
	return e.buckets + len(e.items[0].numbers) + 2
}

func (e *opeEncoder) bucket(token string) int {
	if b, ok := e.cache[token]; ok {
		return b
	}
	h := fnv.New32a()
	h.Write([]byte(token))
	b := int(h.Sum32() % uint32(e.buckets))
	if e.cache == nil {
		e.cache = make(map[string]int)
	}
	e.cache[token] = b
	return b
}

func (e *opeEncoder) encode(r *logRow, item int, x []float64) {
	clear(x)
	info := &e.items[item]
	for _, t := range r.tokens {
		x[e.bucket(t)] = 1
		x[e.bucket(t+"|item="+strconv.Itoa(item))] = 1
	}
	for _, t := range info.tokens {
		x[e.bucket(t)] = 1
	}
	k := e.buckets
	for _, v := range info.numbers {
		x[k] = v
		k++
	}
	if item < len(r.affinity) {
		x[k] = r.affinity[item]
	}
	x[k+1] = 1
}

// trainShared fits one LinUCB model on the logged (context, item, click)
// triples and returns θ = A⁻¹b with A = I + Σxxᵀ and b = Σr·x. The policy is
// frozen after training, so θ comes from one Cholesky solve. The vectors are
// sparse, so A is accumulated over nonzero entries only.
func trainShared(enc *opeEncoder, rows []logRow) (*mat.VecDense, error) {
	d := enc.dim()
	a := mat.NewSymDense(d, nil)
	for i := range d {
		a.SetSym(i, i, 1)
	}
	b := mat.NewVecDense(d, nil)
	x := make([]float64, d)
	var nonzero []int
	for i := range rows {
		enc.encode(&rows[i], rows[i].item, x)
		nonzero = nonzero[:0]
		for j, v := range x {
			if v != 0 {
				nonzero = append(nonzero, j)
			}
		}
		for ji, j := range nonzero {
			b.SetVec(j, b.AtVec(j)+rows[i].click*x[j])
			for _, k := range nonzero[ji:] {
				a.SetSym(j, k, a.At(j, k)+x[j]*x[k])
			}
		}
	}

	var chol mat.Cholesky
	if !chol.Factorize(a) {
		return nil, fmt.Errorf("train policy: %w: design matrix is not positive definite", ErrInvalidLog)
	}
	var theta mat.VecDense
	if err := chol.SolveVecTo(&theta, b); err != nil {
		return nil, fmt.Errorf("train policy: solve: %w", err)
	}
	return &theta, nil
}

func evaluate(enc *opeEncoder, theta *mat.VecDense, rows []logRow, opts OPEOptions) OPEResult {
	d := enc.dim()
	buf := make([]float64, d)
	x := mat.NewVecDense(d, buf)
	// weighted[i] is 1[π(x)=a]·r/p and weight[i] is 1[π(x)=a]/p for row i.
	weighted := make([]float64, len(rows))
	weight := make([]float64, len(rows))
	res := OPEResult{EvalRows: len(rows)}
	for i := range rows {
		r := &rows[i]
		res.EvalClicks += int(r.click)
		best, bestScore := 0, math.Inf(-1)
		for item := range enc.items {
			enc.encode(r, item, buf)
			if s := mat.Dot(theta, x); s > bestScore {
				best, bestScore = item, s
			}
		}
		if best != r.item {
			continue
		}
		res.Matched++
		res.MatchedClicks += int(r.click)
		weight[i] = 1 / r.propensity
		weighted[i] = r.click / r.propensity
	}

	res.LoggedCTR = float64(res.EvalClicks) / float64(len(rows))
	res.IPW, res.SNIPW = ipwEstimates(weighted, weight, nil)
	res.CILow, res.CIHigh = bootstrapSNIPW(weighted, weight, opts.Bootstrap, opts.Seed)
	res.CIMethod = "bootstrap"
	if res.MatchedClicks == 0 && res.Matched > 0 {
		// Every resample then estimates 0, so the percentile interval
		// collapses to [0, 0]. The Wilson interval of 0 clicks in the matched
		// rows is used instead. It is an interval for SNIPW only when all
		// propensities are equal, as in a uniform random log.
		res.CILow, res.CIHigh = 0, wilson(0, res.Matched).High
		res.CIMethod = "wilson_zero_clicks"
	}
	return res
}

// ipwEstimates returns IPW and SNIPW over the rows in idx, or all rows when
// idx is nil. SNIPW is 0 when no row matched.
func ipwEstimates(weighted, weight []float64, idx []int) (ipw, snipw float64) {
	n := len(weighted)
	sumR, sumW := 0.0, 0.0
	if idx == nil {
		for i := range weighted {
			sumR += weighted[i]
			sumW += weight[i]
		}
	} else {
		n = len(idx)
		for _, i := range idx {
			sumR += weighted[i]
			sumW += weight[i]
		}
	}
	ipw = sumR / float64(n)
	if sumW > 0 {
		snipw = sumR / sumW
	}
	return ipw, snipw
}

func bootstrapSNIPW(weighted, weight []float64, resamples int, seed uint64) (low, high float64) {
	rng := rand.New(rand.NewPCG(seed, 0x6f7065))
	idx := make([]int, len(weighted))
	estimates := make([]float64, resamples)
	for b := range resamples {
		for i := range idx {
			idx[i] = rng.IntN(len(weighted))
		}
		_, estimates[b] = ipwEstimates(weighted, weight, idx)
	}
	slices.Sort(estimates)
	return quantile(estimates, 0.025), quantile(estimates, 0.975)
}

// quantile returns the q-quantile of sorted values by linear interpolation.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}
