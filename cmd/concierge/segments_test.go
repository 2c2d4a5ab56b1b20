package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

var segmentTestNow = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

// shopperGroup describes synthetic users that should share a segment.
type shopperGroup struct {
	prefix       string
	visits       int
	revenue      float64
	purchase     float64 // value of each of three purchase events; zero for none
	daysAgo      int     // days since LastSeen
	category     string
	emotionTrend float64
}

var shopperGroups = []shopperGroup{
	{prefix: "big", visits: 25, revenue: 2400, purchase: 800, daysAgo: 1, category: "electronics", emotionTrend: 0.6},
	{prefix: "bargain", visits: 6, revenue: 45, purchase: 15, daysAgo: 12, category: "home/kitchen", emotionTrend: 0.1},
	{prefix: "lapsed", visits: 1, daysAgo: 300, category: "fashion/shoes", emotionTrend: -0.5},
}

// seedShoppers stores perGroup users of each group in store and returns
// their ids by group prefix.
func seedShoppers(t *testing.T, store *memory.Store, perGroup int) map[string][]string {
	t.Helper()
	ctx := t.Context()
	ids := make(map[string][]string)
	for _, g := range shopperGroups {
		for i := range perGroup {
			id := fmt.Sprintf("%s-%02d", g.prefix, i)
			if _, _, err := store.Touch(ctx, id, memory.Visit{Locale: "en-US"}); err != nil {
				t.Fatalf("touch %s: %v", id, err)
			}
			// Small per-user spread keeps the groups from being single points.
			jitter := 1 + float64(i%3)/10
			_, err := store.UpdateProfile(ctx, id, func(p *memory.Profile) error {
				p.Visits = g.visits + i%2
				p.Revenue = g.revenue * jitter
				p.LastSeen = segmentTestNow.Add(-time.Duration(float64(g.daysAgo)*jitter*24) * time.Hour)
				p.CategoryAffinity = map[string]float64{g.category: 3 * jitter}
				p.EmotionTrend = g.emotionTrend
				return nil
			})
			if err != nil {
				t.Fatalf("update profile %s: %v", id, err)
			}
			for range 3 {
				if g.purchase == 0 {
					break
				}
				ev := memory.Event{Type: "purchase", Time: segmentTestNow.Add(-48 * time.Hour),
					Category: g.category, Value: g.purchase * jitter}
				if err := store.AppendEvent(ctx, id, ev); err != nil {
					t.Fatalf("append event for %s: %v", id, err)
				}
			}
			ids[g.prefix] = append(ids[g.prefix], id)
		}
	}
	return ids
}

func newTestSegmentJob(store segmentStore, k int) *SegmentJob {
	job := newSegmentJob(store, k, slog.New(slog.DiscardHandler))
	job.now = func() time.Time { return segmentTestNow }
	return job
}

func TestSegmentJobGroupsSyntheticUsers(t *testing.T) {
	store := memtest.Open(t)
	ids := seedShoppers(t, store, 10)
	job := newTestSegmentJob(store, 3)

	rep, err := job.RunNow(t.Context())
	if err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	if rep.Users != 30 {
		t.Errorf("report users = %d, want 30", rep.Users)
	}
	if rep.Updated != 30 {
		t.Errorf("report updated = %d, want 30 on the first run", rep.Updated)
	}
	if len(rep.Sizes) != 3 {
		t.Errorf("report sizes = %v, want 3 segments", rep.Sizes)
	}

	groupSegment := make(map[string]string)
	for prefix, group := range ids {
		for _, id := range group {
			p, err := store.Profile(t.Context(), id)
			if err != nil {
				t.Fatalf("profile %s: %v", id, err)
			}
			if p.Segment == "" {
				t.Errorf("user %s has no segment", id)
			}
			if want, ok := groupSegment[prefix]; ok && p.Segment != want {
				t.Errorf("user %s segment = %q, want %q like the rest of group %s", id, p.Segment, want, prefix)
			}
			groupSegment[prefix] = p.Segment
		}
	}
	if groupSegment["big"] == groupSegment["bargain"] || groupSegment["big"] == groupSegment["lapsed"] ||
		groupSegment["bargain"] == groupSegment["lapsed"] {
		t.Errorf("groups share segments: %v", groupSegment)
	}
	t.Logf("segments: %v", groupSegment)

	again, err := job.RunNow(t.Context())
	if err != nil {
		t.Fatalf("second RunNow: %v", err)
	}
	if again.Updated != 0 {
		t.Errorf("second run updated %d profiles, want 0 for unchanged users", again.Updated)
	}

	// A segment changed by hand is set back on the next run.
	_, err = store.UpdateProfile(t.Context(), "big-03", func(p *memory.Profile) error {
		p.Segment = "stale"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	third, err := job.RunNow(t.Context())
	if err != nil {
		t.Fatalf("third RunNow: %v", err)
	}
	if third.Updated != 1 {
		t.Errorf("third run updated %d profiles, want 1", third.Updated)
	}
	p, err := store.Profile(t.Context(), "big-03")
	if err != nil {
		t.Fatal(err)
	}
	if p.Segment != groupSegment["big"] {
		t.Errorf("segment after the third run = %q, want %q", p.Segment, groupSegment["big"])
	}
}

func TestSegmentJobSkipsTooFewUsers(t *testing.T) {
	store := memtest.Open(t)
	seedShoppers(t, store, 2) // 6 users, fewer than 3 segments need
	job := newTestSegmentJob(store, 3)

	rep, err := job.RunNow(t.Context())
	if !errors.Is(err, ErrTooFewUsers) {
		t.Fatalf("RunNow error = %v, want ErrTooFewUsers", err)
	}
	if rep.Users != 6 {
		t.Errorf("report users = %d, want 6", rep.Users)
	}
	p, err := store.Profile(t.Context(), "big-00")
	if err != nil {
		t.Fatal(err)
	}
	if p.Segment != "" {
		t.Errorf("segment = %q after a skipped run, want none", p.Segment)
	}
}

// signalingStore reports every Users call, marking the start of a run.
type signalingStore struct {
	segmentStore
	runs chan struct{}
}

func (s signalingStore) Users(ctx context.Context, fn func(memory.Profile) error) error {
	s.runs <- struct{}{}
	return s.segmentStore.Users(ctx, fn)
}

func TestSegmentJobRunsOnStartAndTick(t *testing.T) {
	store := signalingStore{segmentStore: memtest.Open(t), runs: make(chan struct{}, 4)}
	job := newTestSegmentJob(store, 3)
	ctx, cancel := context.WithCancel(t.Context())
	start := make(chan time.Time)
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job.run(ctx, start, tick)
	}()

	start <- segmentTestNow
	<-store.runs
	tick <- segmentTestNow
	<-store.runs
	cancel()
	<-done
	if n := len(store.runs); n != 0 {
		t.Errorf("%d runs after cancel, want 0", n)
	}
}

func TestSegmentJobCancelBeforeStart(t *testing.T) {
	store := signalingStore{segmentStore: memtest.Open(t), runs: make(chan struct{}, 1)}
	job := newTestSegmentJob(store, 3)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		job.run(ctx, make(chan time.Time), make(chan time.Time))
	}()
	cancel()
	<-done
	if n := len(store.runs); n != 0 {
		t.Errorf("%d runs before the start delay, want 0", n)
	}
}

func TestProfileFeatures(t *testing.T) {
	now := segmentTestNow
	tests := []struct {
		name           string
		profile        memory.Profile
		events         []memory.Event
		wantPrice      float64
		wantFrequency  float64
		wantMonetary   float64
		wantRecency    float64
		wantCategories map[string]float64
	}{
		{
			name: "purchases_set_price_and_revenue",
			profile: memory.Profile{UserID: "a", Visits: 4, LastSeen: now.Add(-72 * time.Hour), Budget: 50,
				CategoryAffinity: map[string]float64{"shoes": 3, "bags": 1}},
			events: []memory.Event{
				{Type: "purchase", Value: 100, Category: "shoes"},
				{Type: "purchase", Value: 300, Category: "shoes"},
				{Type: "add_to_cart", Value: 999},
			},
			wantPrice: 200, wantFrequency: 4, wantMonetary: 400, wantRecency: 3,
			wantCategories: map[string]float64{"shoes": 0.75, "bags": 0.25},
		},
		{
			name:    "cart_value_without_purchases",
			profile: memory.Profile{UserID: "b", Visits: 1, Revenue: 10, LastSeen: now, Budget: 50},
			events: []memory.Event{
				{Type: "add_to_cart", Value: 20, Category: "toys"},
				{Type: "product_view", Category: "toys"},
				{Type: "product_view", Category: "books"},
				{Type: "add_to_cart", Value: 40},
			},
			wantPrice: 30, wantFrequency: 1, wantMonetary: 10, wantRecency: 0,
			wantCategories: map[string]float64{"toys": 2.0 / 3, "books": 1.0 / 3},
		},
		{
			name:      "budget_and_turns_fallback",
			profile:   memory.Profile{UserID: "c", Turns: 7, Budget: 150, LastSeen: now.Add(-12 * time.Hour)},
			wantPrice: 150, wantFrequency: 7, wantRecency: 0.5,
			wantCategories: map[string]float64{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := profileFeatures(tc.profile, tc.events, now)
			if f.UserID != tc.profile.UserID {
				t.Errorf("UserID = %q, want %q", f.UserID, tc.profile.UserID)
			}
			if f.PriceLevel != tc.wantPrice {
				t.Errorf("PriceLevel = %v, want %v", f.PriceLevel, tc.wantPrice)
			}
			if f.Frequency != tc.wantFrequency {
				t.Errorf("Frequency = %v, want %v", f.Frequency, tc.wantFrequency)
			}
			if f.Monetary != tc.wantMonetary {
				t.Errorf("Monetary = %v, want %v", f.Monetary, tc.wantMonetary)
			}
			if math.Abs(f.RecencyDays-tc.wantRecency) > 1e-9 {
				t.Errorf("RecencyDays = %v, want %v", f.RecencyDays, tc.wantRecency)
			}
			if len(f.CategoryAffinity) != len(tc.wantCategories) {
				t.Errorf("CategoryAffinity = %v, want %v", f.CategoryAffinity, tc.wantCategories)
			}
			for c, want := range tc.wantCategories {
				if got := f.CategoryAffinity[c]; math.Abs(got-want) > 1e-9 {
					t.Errorf("CategoryAffinity[%s] = %v, want %v", c, got, want)
				}
			}
		})
	}
}

func TestStartSegmentJobStop(t *testing.T) {
	store := memtest.Open(t)
	seedShoppers(t, store, 10)
	job := startSegmentJob(t.Context(), store, configs.Scenario{Segments: 3}, slog.New(slog.DiscardHandler))

	// The first periodic run waits segmentStartDelay, so this run is the
	// only one, and Stop returns without waiting for the delay.
	rep, err := job.RunNow(t.Context())
	if err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	if rep.Users != 30 {
		t.Errorf("report users = %d, want 30", rep.Users)
	}
	job.Stop()
	job.Stop()
}
