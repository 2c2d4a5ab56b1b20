package offer

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"text/tabwriter"
)

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// ReportRow is one slice of outcomes, for example one conversation or one
// variant-and-offer pair; Report sums rows that share a variant or offer.
type ReportRow struct {
	Variant       string
	OfferID       string // empty for conversations that saw no offer
	Conversations int
	Impressions   int
	Clicks        int
	Redemptions   int
	Conversions   int     // conversations with a purchase
	Revenue       float64 // purchase value in the store currency
}

// ReportOptions configures Report.
type ReportOptions struct {
	Experiment string // experiment id, printed on the report
	Control    string // variant the z-tests compare against; empty means no test
	// Epsilon, when positive, adds Laplace noise with scale 1/Epsilon to
	// every count before rates are computed. Zero reports exact counts.
	Epsilon float64
	Seed    uint64 // seeds the noise source, so a report can be reproduced
}

// Rate is a proportion with its 95% Wilson score interval.
type Rate struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// GroupStats is the totals and rates of one variant or one offer.
type GroupStats struct {
	Name                   string  `json:"name"`
	Conversations          int     `json:"conversations"`
	Impressions            int     `json:"impressions"`
	Clicks                 int     `json:"clicks"`
	Redemptions            int     `json:"redemptions"`
	Conversions            int     `json:"conversions"`
	Revenue                float64 `json:"revenue"`
	CTR                    Rate    `json:"ctr"`             // clicks per impression
	RedeemRate             Rate    `json:"redeem_rate"`     // redemptions per impression
	ConversionRate         Rate    `json:"conversion_rate"` // conversions per conversation
	RevenuePerConversation float64 `json:"revenue_per_conversation"`
	// CTRPValue and ConversionPValue are two-sided p-values of a pooled
	// two-proportion z-test against the control variant. They are nil for
	// the control itself, for offers, and when either side has no trials.
	CTRPValue        *float64 `json:"ctr_p_value,omitempty"`
	ConversionPValue *float64 `json:"conversion_p_value,omitempty"`
}

// ExperimentReport is the outcome of an experiment by variant and by offer.
type ExperimentReport struct {
	Experiment string       `json:"experiment,omitempty"`
	Control    string       `json:"control,omitempty"`
	Epsilon    float64      `json:"epsilon,omitempty"` // Laplace noise parameter; 0 means exact counts
	Variants   []GroupStats `json:"variants"`
	Offers     []GroupStats `json:"offers"`
}

// Report sums rows by variant and by offer and computes rates, Wilson
// intervals and z-tests against opts.Control.
func Report(rows []ReportRow, opts ReportOptions) ExperimentReport {
	r := ExperimentReport{Experiment: opts.Experiment, Control: opts.Control}
	variants := groupRows(rows, func(row ReportRow) string { return row.Variant })
	offers := groupRows(rows, func(row ReportRow) string { return row.OfferID })

	if opts.Epsilon > 0 {
		r.Epsilon = opts.Epsilon
		rng := rand.New(rand.NewPCG(opts.Seed, 0x6f66666572))
		for i := range variants {
			addNoise(&variants[i], opts.Epsilon, rng)
		}
		for i := range offers {
			addNoise(&offers[i], opts.Epsilon, rng)
		}
	}

	for i := range variants {
		fillRates(&variants[i])
	}
	for i := range offers {
		fillRates(&offers[i])
	}

	if ci := slices.IndexFunc(variants, func(g GroupStats) bool { return g.Name == opts.Control }); ci >= 0 {
		ctl := variants[ci]
		for i := range variants {
			if i == ci {
				continue
			}
			v := &variants[i]
			v.CTRPValue = twoProportionP(v.Clicks, v.Impressions, ctl.Clicks, ctl.Impressions)
			v.ConversionPValue = twoProportionP(v.Conversions, v.Conversations, ctl.Conversions, ctl.Conversations)
		}
	}
	r.Variants = variants
	r.Offers = slices.DeleteFunc(offers, func(g GroupStats) bool { return g.Name == "" })
	return r
}

func groupRows(rows []ReportRow, key func(ReportRow) string) []GroupStats {
	index := make(map[string]int)
	var groups []GroupStats
	for _, row := range rows {
		k := key(row)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, GroupStats{Name: k})
		}
		g := &groups[i]
		g.Conversations += row.Conversations
		g.Impressions += row.Impressions
		g.Clicks += row.Clicks
		g.Redemptions += row.Redemptions
		g.Conversions += row.Conversions
		g.Revenue += row.Revenue
	}
	slices.SortFunc(groups, func(a, b GroupStats) int { return cmp.Compare(a.Name, b.Name) })
	return groups
}

// addNoise perturbs each count with Laplace(1/epsilon) noise, rounds to an
// integer and keeps the counts consistent (no more clicks than impressions).
// NOTE: epsilon is per count with sensitivity 1. A user who contributes to
// several counts or conversations gets a weaker guarantee than epsilon.
func addNoise(g *GroupStats, epsilon float64, rng *rand.Rand) {
	noisy := func(n int) int {
		return max(int(math.Round(float64(n)+laplace(rng, 1/epsilon))), 0)
	}
	g.Conversations = noisy(g.Conversations)
	g.Impressions = noisy(g.Impressions)
	g.Clicks = min(noisy(g.Clicks), g.Impressions)
	g.Redemptions = min(noisy(g.Redemptions), g.Impressions)
	g.Conversions = min(noisy(g.Conversions), g.Conversations)
	// TODO: revenue has no natural sensitivity bound, so it is reported
	// without noise; clip order values before adding noise to protect it.
}

// laplace draws from a Laplace distribution with mean 0 and the given scale
// by inverting its CDF.
func laplace(rng *rand.Rand, scale float64) float64 {
	u := rng.Float64() - 0.5
	return -scale * math.Copysign(1, u) * math.Log(1-2*math.Abs(u))
}

func fillRates(g *GroupStats) {
	g.CTR = wilson(g.Clicks, g.Impressions)
	g.RedeemRate = wilson(g.Redemptions, g.Impressions)
	g.ConversionRate = wilson(g.Conversions, g.Conversations)
	if g.Conversations > 0 {
		g.RevenuePerConversation = g.Revenue / float64(g.Conversations)
	}
}

// wilson returns successes/trials with its 95% Wilson score interval. With
// no trials the rate is 0 and the interval is [0, 1].
func wilson(successes, trials int) Rate {
	if trials <= 0 {
		return Rate{Low: 0, High: 1}
	}
	n := float64(trials)
	p := float64(successes) / n
	z2 := z95 * z95
	denom := 1 + z2/n
	center := (p + z2/(2*n)) / denom
	half := z95 * math.Sqrt(p*(1-p)/n+z2/(4*n*n)) / denom
	return Rate{Value: p, Low: max(center-half, 0), High: min(center+half, 1)}
}

// twoProportionP returns the two-sided p-value of the pooled z-test that
// x1/n1 and x2/n2 share one proportion, or nil when it is undefined.
func twoProportionP(x1, n1, x2, n2 int) *float64 {
	if n1 <= 0 || n2 <= 0 {
		return nil
	}
	pooled := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	p := 1.0
	if se > 0 {
		z := (float64(x1)/float64(n1) - float64(x2)/float64(n2)) / se
		p = math.Erfc(math.Abs(z) / math.Sqrt2)
	}
	return &p
}

// WriteText writes the report as aligned plain-text tables.
func (r ExperimentReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "experiment: %s\tcontrol: %s\n", cmp.Or(r.Experiment, "-"), cmp.Or(r.Control, "-"))
	if r.Epsilon > 0 {
		fmt.Fprintf(tw, "counts carry Laplace noise, epsilon=%g per count\n", r.Epsilon)
	}
	writeGroups(tw, "variant", r.Variants, true)
	writeGroups(tw, "offer", r.Offers, false)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func writeGroups(w io.Writer, kind string, groups []GroupStats, tests bool) {
	fmt.Fprintf(w, "\n%s\tconversations\timpressions\tclicks\tredemptions\tconversions\trevenue\tctr [95%% CI]\tconversion [95%% CI]", kind)
	if tests {
		fmt.Fprint(w, "\tctr p\tconversion p")
	}
	fmt.Fprintln(w)
	for _, g := range groups {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%s\t%s", cmp.Or(g.Name, "(none)"),
			g.Conversations, g.Impressions, g.Clicks, g.Redemptions, g.Conversions, g.Revenue,
			formatRate(g.CTR), formatRate(g.ConversionRate))
		if tests {
			fmt.Fprintf(w, "\t%s\t%s", formatP(g.CTRPValue), formatP(g.ConversionPValue))
		}
		fmt.Fprintln(w)
	}
}

func formatRate(r Rate) string {
	return fmt.Sprintf("%.2f%% [%.2f, %.2f]", 100*r.Value, 100*r.Low, 100*r.High)
}

func formatP(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.3g", *p)
}
