package scenario

import (
	"fmt"
	"strings"
)

// highZ is the standardised distance from the mean that makes a centroid
// feature count as high (or, negated, low) when naming a segment.
const highZ = 0.5

// nameSegments gives each centroid a readable name from its standardised
// recency, frequency, monetary value and price level, adds the strongest
// category when one stands out, and numbers repeated names.
func nameSegments(features []string, z [][]float64) []string {
	names := make([]string, len(z))
	seen := make(map[string]int)
	for c, row := range z {
		name := rfmName(row[0], row[1], row[2], row[3])
		if cat := topCategory(features, row); cat != "" {
			name += " (" + cat + ")"
		}
		seen[name]++
		if n := seen[name]; n > 1 {
			name = fmt.Sprintf("%s %d", name, n)
		}
		names[c] = name
	}
	return names
}

// rfmName names a segment from standardised recency (high means long ago),
// frequency, monetary value and price level.
func rfmName(recency, frequency, monetary, price float64) string {
	switch {
	case recency > highZ && monetary > highZ:
		return "lapsed big spenders"
	case recency > highZ && price > highZ:
		return "lapsed premium buyers"
	case recency > highZ && price < -highZ:
		return "lapsed bargain hunters"
	case recency > highZ:
		return "lapsed one-time buyers"
	case frequency > highZ && monetary > highZ:
		return "loyal big spenders"
	case frequency > highZ:
		return "frequent shoppers"
	case monetary > highZ || price > highZ:
		return "premium buyers"
	case price < -highZ:
		return "bargain hunters"
	case recency < -highZ && frequency < 0:
		return "new browsers"
	default:
		return "occasional shoppers"
	}
}

// topCategory returns the category whose standardised affinity is highest
// and above 1, or "".
func topCategory(features []string, row []float64) string {
	best, bestZ := "", 1.0
	for j, f := range features {
		if cat, ok := strings.CutPrefix(f, "category:"); ok && row[j] > bestZ {
			best, bestZ = cat, row[j]
		}
	}
	return best
}
