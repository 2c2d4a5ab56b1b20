package offer

import (
	"hash/fnv"
	"slices"
)

// Feature vector layout. Each block is a one-hot encoding with a trailing
// "other" slot where the value may be missing or unknown, so a new label
// never shifts later features.
const (
	segmentBuckets = 8

	scenarioOffset = 0
	intentOffset   = scenarioOffset + 9 // 8 scenario labels + other
	segmentOffset  = intentOffset + 13  // 12 intents + other
	timeOffset     = segmentOffset + segmentBuckets
	weekendIndex   = timeOffset + 4 // morning, afternoon, evening, night
	pageOffset     = weekendIndex + 1
	deviceOffset   = pageOffset + 6   // 5 page kinds + other
	newUserIndex   = deviceOffset + 4 // 3 devices + other
	abandonedIndex = newUserIndex + 1
	festivalIndex  = abandonedIndex + 1
	biasIndex      = festivalIndex + 1

	// FeatureDim is the length of every vector that Features returns.
	FeatureDim = biasIndex + 1
)

var timesOfDay = []string{"morning", "afternoon", "evening", "night"}

// Features encodes a turn for the bandit: scenario label, intent, segment
// (hashed into 8 buckets), time of day, weekend, page kind, device, new user,
// abandoned cart, festival and a constant bias term. The result has length
// FeatureDim and every entry is 0 or 1.
func Features(c Context) []float64 {
	x := make([]float64, FeatureDim)
	x[scenarioOffset+oneHot(scenarioLabels, c.Scenario.Label)] = 1
	x[intentOffset+oneHot(intentLabels, c.Scenario.Intent.Label)] = 1
	if c.Segment != "" {
		h := fnv.New32a()
		h.Write([]byte(c.Segment))
		x[segmentOffset+int(h.Sum32()%segmentBuckets)] = 1
	}
	x[timeOffset+timeOfDayIndex(c)] = 1
	if c.Scenario.Weekend {
		x[weekendIndex] = 1
	}
	x[pageOffset+oneHot(pageKindNames, pageKind(c))] = 1
	x[deviceOffset+oneHot(deviceNames, device(c))] = 1
	if c.NewUser {
		x[newUserIndex] = 1
	}
	if c.Scenario.Behavior.AbandonedCart {
		x[abandonedIndex] = 1
	}
	if c.Scenario.Festival != nil {
		x[festivalIndex] = 1
	}
	x[biasIndex] = 1
	return x
}

// oneHot returns the index of v in labels, or len(labels) for the "other" slot.
func oneHot(labels []string, v string) int {
	if i := slices.Index(labels, v); i >= 0 {
		return i
	}
	return len(labels)
}

// timeOfDayIndex uses the scenario's label when present and otherwise the
// hour of the scenario's local time, or of c.Now when that is zero too.
func timeOfDayIndex(c Context) int {
	if i := slices.Index(timesOfDay, c.Scenario.TimeOfDay); i >= 0 {
		return i
	}
	t := c.Scenario.LocalTime
	if t.IsZero() {
		t = c.Now
	}
	switch h := t.Hour(); {
	case h >= 5 && h < 12:
		return 0
	case h >= 12 && h < 18:
		return 1
	case h >= 18 && h < 23:
		return 2
	default:
		return 3
	}
}

func pageKind(c Context) string {
	if c.PageKind != "" {
		return c.PageKind
	}
	return c.Scenario.PageKind
}

func device(c Context) string {
	if c.Device != "" {
		return c.Device
	}
	return c.Scenario.Device
}
