package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/scenario"
)

// Segment job settings.
const (
	// segmentStartDelay is how long after start the first segmentation
	// runs, so that it does not compete with the catalog import.
	segmentStartDelay = time.Minute
	// defaultSegmentInterval applies when scenario.segment_interval is
	// zero.
	defaultSegmentInterval = time.Hour
	// segmentEventWindow is how far back events count towards a user's
	// price level and category affinity.
	segmentEventWindow = 180 * 24 * time.Hour
	// minUsersPerSegment is the number of users per segment below which the
	// job skips a run.
	// NOTE: an estimate. With fewer users a centroid describes one or two
	// people rather than a group.
	minUsersPerSegment = 5
	// segmentSeed seeds K-Means, so the same users get the same segments
	// on every run.
	segmentSeed = 1
)

// ErrTooFewUsers is returned by SegmentJob.RunNow when the store has fewer
// users than the segment count needs.
var ErrTooFewUsers = errors.New("too few users to segment")

// segmentStore is the part of memory.Store the segment job uses.
type segmentStore interface {
	Users(ctx context.Context, fn func(memory.Profile) error) error
	Events(ctx context.Context, userID string, since time.Time) ([]memory.Event, error)
	UpdateProfile(ctx context.Context, userID string, fn func(*memory.Profile) error) (memory.Profile, error)
}

// SegmentReport describes one segmentation run.
type SegmentReport struct {
	Users      int            // users clustered
	Updated    int            // profiles whose segment name changed
	Sizes      map[string]int // users per segment name
	Silhouette float64
	Duration   time.Duration
}

// SegmentJob clusters users into scenario.segments segments with
// scenario.Segment and stores each user's segment name in the profile. It
// runs once after segmentStartDelay, then every scenario.segment_interval,
// and on demand through RunNow. Runs never overlap.
type SegmentJob struct {
	store segmentStore
	k     int
	now   func() time.Time
	log   *slog.Logger

	mu   sync.Mutex // serialises runs
	stop func()
}

// newSegmentJob returns a job that segments the users of store into k
// segments. It does not start the job.
func newSegmentJob(store segmentStore, k int, log *slog.Logger) *SegmentJob {
	return &SegmentJob{store: store, k: k, now: time.Now, log: log, stop: func() {}}
}

// startSegmentJob starts the periodic segmentation of the users of store
// and returns the job. The job ends when ctx is done or Stop is called;
// Stop also waits for a running segmentation to return.
func startSegmentJob(ctx context.Context, store *memory.Store, cfg configs.Scenario, log *slog.Logger) *SegmentJob {
	job := newSegmentJob(store, cfg.Segments, log.With("component", "segments"))
	interval := cfg.SegmentInterval
	if interval <= 0 {
		interval = defaultSegmentInterval
	}
	ctx, cancel := context.WithCancel(ctx)
	delay := time.NewTimer(segmentStartDelay)
	ticker := time.NewTicker(interval)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job.run(ctx, delay.C, ticker.C)
	}()
	job.stop = sync.OnceFunc(func() {
		cancel()
		delay.Stop()
		ticker.Stop()
		<-done
	})
	return job
}

// Stop stops the periodic runs and waits for a running one to return. It
// is safe to call more than once.
func (j *SegmentJob) Stop() {
	j.stop()
}

// run segments once when start fires and again on every tick, until ctx
// is done. A tick before start is ignored.
func (j *SegmentJob) run(ctx context.Context, start, tick <-chan time.Time) {
	select {
	case <-start:
	case <-ctx.Done():
		return
	}
	j.runLogged(ctx)
	for {
		select {
		case <-tick:
			j.runLogged(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// runLogged runs RunNow and logs the outcome. A failed run is retried at
// the next tick.
func (j *SegmentJob) runLogged(ctx context.Context) {
	rep, err := j.RunNow(ctx)
	switch {
	case errors.Is(err, ErrTooFewUsers):
		j.log.Info("segmentation skipped", "users", rep.Users, "segments", j.k,
			"min_users", j.k*minUsersPerSegment)
	case err != nil && ctx.Err() != nil:
		j.log.Info("segmentation stopped by shutdown", "error", err)
	case err != nil:
		j.log.Error("segmentation failed, retrying at the next run", "segments", j.k, "error", err)
	default:
		j.log.Info("segmentation done", "users", rep.Users, "updated", rep.Updated,
			"sizes", rep.Sizes, "silhouette", rep.Silhouette,
			"duration_ms", rep.Duration.Milliseconds())
	}
}

// RunNow segments every stored user and writes each segment name into the
// user's profile. It returns ErrTooFewUsers, with Users set and no profile
// changed, when there are fewer than minUsersPerSegment users per segment.
// It waits for a periodic run in progress to finish first.
func (j *SegmentJob) RunNow(ctx context.Context) (SegmentReport, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	start := j.now()
	users, current, err := j.userFeatures(ctx, start)
	if err != nil {
		return SegmentReport{}, err
	}

	rep := SegmentReport{Users: len(users)}
	if j.k < 2 || len(users) < j.k*minUsersPerSegment {
		return rep, fmt.Errorf("segment %d users into %d segments: %w", len(users), j.k, ErrTooFewUsers)
	}
	seg, err := scenario.Segment(users, j.k, segmentSeed)
	if err != nil {
		return rep, fmt.Errorf("segment users: %w", err)
	}

	rep.Silhouette = seg.Silhouette
	rep.Sizes = make(map[string]int, seg.K)
	for i, name := range seg.Names {
		rep.Sizes[name] = seg.Sizes[i]
	}

	for _, u := range users {
		name := seg.Name(u.UserID)
		if current[u.UserID] == name {
			continue // no write for an unchanged segment
		}
		changed, err := j.storeSegment(ctx, u.UserID, name)
		if err != nil {
			return rep, err
		}
		if changed {
			rep.Updated++
		}
	}
	rep.Duration = j.now().Sub(start)
	return rep, nil
}

// storeSegment writes name into the user's profile unless it is already
// there, and reports whether it changed. A user erased since the listing
// is skipped.
func (j *SegmentJob) storeSegment(ctx context.Context, userID, name string) (bool, error) {
	changed := false
	_, err := j.store.UpdateProfile(ctx, userID, func(p *memory.Profile) error {
		changed = p.Segment != name
		p.Segment = name
		return nil
	})
	if errors.Is(err, memory.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store segment: %w", err)
	}
	return changed, nil
}

// userFeatures builds the features of every stored user from the profile
// and the events of the last segmentEventWindow. It also returns each
// user's stored segment name.
func (j *SegmentJob) userFeatures(ctx context.Context, now time.Time) ([]scenario.UserFeatures, map[string]string, error) {
	var profiles []memory.Profile
	err := j.store.Users(ctx, func(p memory.Profile) error {
		profiles = append(profiles, p)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list users: %w", err)
	}
	users := make([]scenario.UserFeatures, 0, len(profiles))
	current := make(map[string]string, len(profiles))
	for _, p := range profiles {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		events, err := j.store.Events(ctx, p.UserID, now.Add(-segmentEventWindow))
		if err != nil {
			return nil, nil, fmt.Errorf("load events: %w", err)
		}
		users = append(users, profileFeatures(p, events, now))
		current[p.UserID] = p.Segment
	}
	return users, current, nil
}

// profileFeatures returns the segmentation features of one user:
//   - category affinity is the profile's weighted interest, or else the
//     categories of the events, as shares that sum to 1.
//   - price level is the mean purchase value, or else the mean cart value,
//     or else the last budget the user stated.
//   - recency is the days since LastSeen.
//   - frequency is the visits, or the turns of a user with no visits.
//   - monetary is Revenue, or else the sum of purchase values.
//   - emotion trend is the profile's moving average.
func profileFeatures(p memory.Profile, events []memory.Event, now time.Time) scenario.UserFeatures {
	f := scenario.UserFeatures{
		UserID:       p.UserID,
		Frequency:    float64(p.Visits),
		Monetary:     p.Revenue,
		EmotionTrend: p.EmotionTrend,
	}
	if f.Frequency == 0 {
		f.Frequency = float64(p.Turns)
	}
	if !p.LastSeen.IsZero() {
		f.RecencyDays = max(now.Sub(p.LastSeen).Hours()/24, 0)
	}

	affinity := make(map[string]float64, len(p.CategoryAffinity))
	for c, w := range p.CategoryAffinity {
		if w > 0 {
			affinity[c] = w
		}
	}
	var purchaseSum, cartSum float64
	var purchases, carts int
	for _, ev := range events {
		switch ev.Type {
		case "purchase":
			if ev.Value > 0 {
				purchaseSum += ev.Value
				purchases++
			}
		case "add_to_cart":
			if ev.Value > 0 {
				cartSum += ev.Value
				carts++
			}
		}
		if len(p.CategoryAffinity) == 0 && ev.Category != "" {
			affinity[ev.Category]++
		}
	}
	f.CategoryAffinity = shares(affinity)

	switch {
	case purchases > 0:
		f.PriceLevel = purchaseSum / float64(purchases)
	case carts > 0:
		f.PriceLevel = cartSum / float64(carts)
	default:
		f.PriceLevel = p.Budget
	}
	if f.Monetary == 0 {
		f.Monetary = purchaseSum
	}
	return f
}

// shares scales weights in place to sum to 1 and returns them. An empty
// map stays empty.
func shares(weights map[string]float64) map[string]float64 {
	var total float64
	for _, w := range weights {
		total += w
	}
	for c, w := range weights {
		weights[c] = w / total
	}
	return weights
}
