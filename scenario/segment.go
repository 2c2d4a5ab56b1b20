package scenario

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// ErrTooFewUsers is returned by Segment when there are fewer users than
// segments, or k is below 2.
var ErrTooFewUsers = errors.New("scenario: too few users for k segments")

// K-Means settings.
const (
	kmeansRestarts  = 5
	kmeansMaxIter   = 100
	silhouetteLimit = 4000 // larger inputs score a deterministic sample
)

// UserFeatures contains one user's behaviour and preference features.
type UserFeatures struct {
	UserID string
	// CategoryAffinity is the user's share of interest per category,
	// for example from views and purchases.
	CategoryAffinity map[string]float64
	PriceLevel       float64 // mean price paid, in the store's currency
	RecencyDays      float64 // days since the last purchase or visit
	Frequency        float64 // purchases (or visits) in the period
	Monetary         float64 // total spent in the period
	EmotionTrend     float64 // mean emotion score, -1 negative to +1 positive
}

// Segmentation is the result of Segment.
type Segmentation struct {
	K     int
	Names []string // one readable name per segment, unique
	// Centroids are each segment's mean features in original units, in the
	// order of FeatureNames.
	Centroids [][]float64
	Sizes     []int
	// Silhouette is the mean silhouette coefficient, from -1 to 1, over all
	// users or a sample of silhouetteLimit users.
	Silhouette   float64
	Assign       map[string]int // user id -> segment index
	FeatureNames []string
}

// Name returns the segment name of userID, or "" for an unknown user.
func (s Segmentation) Name(userID string) string {
	i, ok := s.Assign[userID]
	if !ok {
		return ""
	}
	return s.Names[i]
}

// Segment clusters users into k segments with K-Means and k-means++
// seeding. RecencyDays, Frequency, Monetary and PriceLevel are transformed
// with log1p, because they are heavy-tailed, and every feature is
// standardised before clustering. The best of five seeded runs (lowest
// within-cluster sum of squares) is kept.
func Segment(users []UserFeatures, k int, seed int64) (Segmentation, error) {
	if k < 2 || len(users) < k {
		return Segmentation{}, fmt.Errorf("segment %d users into %d: %w", len(users), k, ErrTooFewUsers)
	}
	names, raw := featureMatrix(users)
	data := standardize(raw)
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc1a55))

	var best []int
	bestInertia := math.Inf(1)
	for range kmeansRestarts {
		assign, inertia := kmeans(data, k, rng)
		if inertia < bestInertia {
			best, bestInertia = assign, inertia
		}
	}

	seg := Segmentation{K: k, FeatureNames: names, Assign: make(map[string]int, len(users))}
	seg.Sizes = make([]int, k)
	seg.Centroids = make([][]float64, k)
	zCentroids := make([][]float64, k)
	for c := range k {
		seg.Centroids[c] = make([]float64, len(names))
		zCentroids[c] = make([]float64, len(names))
	}
	for i, c := range best {
		seg.Sizes[c]++
		seg.Assign[users[i].UserID] = c
		floats.Add(seg.Centroids[c], raw.RawRowView(i))
		floats.Add(zCentroids[c], data.RawRowView(i))
	}
	for c := range k {
		if seg.Sizes[c] > 0 {
			floats.Scale(1/float64(seg.Sizes[c]), seg.Centroids[c])
			floats.Scale(1/float64(seg.Sizes[c]), zCentroids[c])
		}
	}
	seg.Silhouette = silhouette(data, best, k, rng)
	seg.Names = nameSegments(names, zCentroids)
	return seg, nil
}

// featureMatrix returns the feature names and one row of raw features per
// user: recency, frequency, monetary, price level, emotion trend, then one
// column per category in sorted order.
func featureMatrix(users []UserFeatures) ([]string, *mat.Dense) {
	catSet := make(map[string]bool)
	for _, u := range users {
		for c := range u.CategoryAffinity {
			catSet[c] = true
		}
	}
	cats := make([]string, 0, len(catSet))
	for c := range catSet {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	names := []string{"recency_days", "frequency", "monetary", "price_level", "emotion_trend"}
	for _, c := range cats {
		names = append(names, "category:"+c)
	}
	m := mat.NewDense(len(users), len(names), nil)
	for i, u := range users {
		row := []float64{u.RecencyDays, u.Frequency, u.Monetary, u.PriceLevel, u.EmotionTrend}
		for _, c := range cats {
			row = append(row, u.CategoryAffinity[c])
		}
		m.SetRow(i, row)
	}
	return names, m
}

// standardize returns a copy of raw with log1p applied to the first four
// columns and every column scaled to zero mean and unit standard deviation.
// Constant columns become zero.
func standardize(raw *mat.Dense) *mat.Dense {
	rows, cols := raw.Dims()
	out := mat.DenseCopyOf(raw)
	col := make([]float64, rows)
	for j := range cols {
		mat.Col(col, j, out)
		if j < 4 {
			for i, x := range col {
				col[i] = math.Log1p(math.Max(x, 0))
			}
		}
		mean, std := stat.MeanStdDev(col, nil)
		for i, x := range col {
			if std > 0 {
				col[i] = (x - mean) / std
			} else {
				col[i] = 0
			}
		}
		out.SetCol(j, col)
	}
	return out
}

// kmeans runs Lloyd's algorithm from k-means++ seeds and returns the
// assignment and the within-cluster sum of squared distances.
func kmeans(data *mat.Dense, k int, rng *rand.Rand) ([]int, float64) {
	n, d := data.Dims()
	centers := seedPlusPlus(data, k, rng)
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	sums := make([][]float64, k)
	for c := range sums {
		sums[c] = make([]float64, d)
	}
	counts := make([]int, k)
	var inertia float64
	for range kmeansMaxIter {
		changed := false
		inertia = 0
		for i := range n {
			c, dist := nearest(data.RawRowView(i), centers)
			inertia += dist
			if c != assign[i] {
				assign[i], changed = c, true
			}
		}
		if !changed {
			break
		}
		for c := range k {
			clear(sums[c])
			counts[c] = 0
		}
		for i, c := range assign {
			floats.Add(sums[c], data.RawRowView(i))
			counts[c]++
		}
		for c := range k {
			if counts[c] == 0 {
				// An empty cluster takes a random point so that k stays k.
				copy(centers[c], data.RawRowView(rng.IntN(n)))
				continue
			}
			floats.ScaleTo(centers[c], 1/float64(counts[c]), sums[c])
		}
	}
	return assign, inertia
}

// seedPlusPlus picks k initial centres: the first uniformly, each next one
// with probability proportional to its squared distance from the nearest
// centre chosen so far (Arthur and Vassilvitskii, 2007).
func seedPlusPlus(data *mat.Dense, k int, rng *rand.Rand) [][]float64 {
	n, _ := data.Dims()
	centers := [][]float64{slices.Clone(data.RawRowView(rng.IntN(n)))}
	dist := make([]float64, n)
	for len(centers) < k {
		var total float64
		for i := range n {
			_, dist[i] = nearest(data.RawRowView(i), centers)
			total += dist[i]
		}
		pick := rng.IntN(n)
		if total > 0 {
			target := rng.Float64() * total
			for i, dd := range dist {
				target -= dd
				if target <= 0 {
					pick = i
					break
				}
			}
		}
		centers = append(centers, slices.Clone(data.RawRowView(pick)))
	}
	return centers
}

// nearest returns the index of the centre closest to x and the squared
// Euclidean distance to it.
func nearest(x []float64, centers [][]float64) (int, float64) {
	best, bestDist := 0, math.Inf(1)
	for c, ctr := range centers {
		d := floats.Distance(x, ctr, 2)
		if d*d < bestDist {
			best, bestDist = c, d*d
		}
	}
	return best, bestDist
}

// silhouette returns the mean silhouette coefficient of the assignment
// (Rousseeuw, 1987). Above silhouetteLimit points it scores a random
// sample of that size against all points, because the exact score costs
// O(n²) distances.
func silhouette(data *mat.Dense, assign []int, k int, rng *rand.Rand) float64 {
	n, _ := data.Dims()
	sample := make([]int, n)
	for i := range sample {
		sample[i] = i
	}
	if n > silhouetteLimit {
		rng.Shuffle(n, func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
		sample = sample[:silhouetteLimit]
	}
	sums := make([]float64, k)
	counts := make([]int, k)
	for _, c := range assign {
		counts[c]++
	}
	var total float64
	for _, i := range sample {
		clear(sums)
		xi := data.RawRowView(i)
		for j := range n {
			if j != i {
				sums[assign[j]] += floats.Distance(xi, data.RawRowView(j), 2)
			}
		}
		own := assign[i]
		if counts[own] <= 1 {
			continue // a singleton's coefficient is 0
		}
		a := sums[own] / float64(counts[own]-1)
		b := math.Inf(1)
		for c := range k {
			if c != own && counts[c] > 0 {
				b = math.Min(b, sums[c]/float64(counts[c]))
			}
		}
		if m := math.Max(a, b); m > 0 && !math.IsInf(b, 1) {
			total += (b - a) / m
		}
	}
	return total / float64(len(sample))
}
