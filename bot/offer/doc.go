// Package offer chooses at most one promotion per chat turn and measures the
// result.
//
// Offers are parsed from YAML by ParseOffers, which rejects unknown keys and
// reports every invalid field with the offer id and the fix. An offer is
// shown only inside its validity window, which is written in the offer's
// time zone, and only while every eligibility condition holds, its total
// Budget is not spent and the user has seen it fewer than CapPerUser times.
// Turns in the complaint or after_sales scenario, or with a complaint or
// return_refund intent, get only offers that name that label or intent in
// their eligibility. A shopper with a problem is therefore not handed a
// coupon unless an operator wrote a goodwill offer for the case.
//
// Among eligible offers a Picker ranks with disjoint LinUCB (Li, Chu,
// Langford and Schapire, "A Contextual-Bandit Approach to Personalized News
// Article Recommendation", WWW 2010): one model per offer with A = I + Σxxᵀ
// and b = Σr·x over its impressions, scoring θᵀx + α√(xᵀA⁻¹x) with
// θ = A⁻¹b. Offers with fewer than Options.MinImpressions impressions rank
// first, by Priority, so every new offer collects data. Choose counts the
// chosen offer as an impression with reward zero at once. Reward later adds
// the click or redemption reward for the same features and writes the
// offer's weights to State, and Flush writes the weights of impressions that
// never earned a reward.
//
// Simulate compares LinUCB with uniform random and context-free ε-greedy
// on synthetic data, and EvalOffers estimates a trained policy's CTR from an
// Open Bandit Dataset log by inverse propensity weighting. Assign splits
// users into experiment variants by a stable hash, and Report computes rates
// with Wilson intervals, z-tests against the control and optional Laplace
// noise.
//
// # Concurrency
//
// A Picker is safe for concurrent use. Choose holds one mutex while it
// scores, so budgets are never overspent by concurrent turns. Reward and
// Flush also hold a persistence mutex while they write to State; the lock
// order is the persistence mutex before the picker mutex, and no State call
// runs under the picker mutex. Everything else in the package is a pure
// function or works on values the caller owns.
package offer
