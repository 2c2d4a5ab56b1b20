package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/web"
	"github.com/concierge-chat/concierge/web/admin"
)

// adminTokenKey is the store state key of the SHA-256 of a generated staff
// token. The token itself is never stored.
const adminTokenKey = "admin/token_sha256"

// retentionInterval is how often the retention job runs after its first
// run at start.
const retentionInterval = time.Hour

// maxCatalogRowErrors caps the rejected rows a catalog upload reports.
const maxCatalogRowErrors = 20

// stateStore is the part of the store that keeps the staff token hash.
type stateStore interface {
	GetState(ctx context.Context, key string) ([]byte, error)
	PutState(ctx context.Context, key string, value []byte) error
}

// adminToken returns the hash of the staff token and a line for the
// start-up output. The token comes from admin.token. When that is empty, the
// first start generates a token, stores only its hash and returns a line
// that shows the token this once.
func adminToken(ctx context.Context, cfg configs.Admin, store stateStore) ([32]byte, string, error) {
	if cfg.Token != "" {
		return admin.HashToken(cfg.Token), "The staff token is set by admin.token or CONCIERGE_ADMIN_TOKEN.", nil
	}
	stored, err := store.GetState(ctx, adminTokenKey)
	switch {
	case err == nil && len(stored) == sha256.Size:
		return [32]byte(stored), "A staff token exists: it was printed on first start. " +
			"To replace it, set CONCIERGE_ADMIN_TOKEN.", nil
	case err == nil:
		return [32]byte{}, "", fmt.Errorf("stored staff token hash %s has %d bytes, want %d; "+
			"set CONCIERGE_ADMIN_TOKEN", adminTokenKey, len(stored), sha256.Size)
	case !errors.Is(err, memory.ErrNotFound):
		return [32]byte{}, "", fmt.Errorf("load staff token hash: %w", err)
	}

	token := rand.Text() // 26 base32 characters, 130 random bits
	hash := admin.HashToken(token)
	if err := store.PutState(ctx, adminTokenKey, hash[:]); err != nil {
		return [32]byte{}, "", fmt.Errorf("store staff token hash: %w", err)
	}
	return hash, "Staff token, shown only this once (keep it safe): " + token, nil
}

// liveUsers hands the WebSocket server to the admin handler, which is
// built before the server because the server routes to it.
type liveUsers struct {
	mu  sync.Mutex
	srv *web.Server // guarded by mu; nil until set
}

func (l *liveUsers) set(srv *web.Server) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.srv = srv
}

func (l *liveUsers) server() *web.Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.srv
}

func (l *liveUsers) SendToUser(userID string, frame any) int {
	if srv := l.server(); srv != nil {
		return srv.SendToUser(userID, frame)
	}
	return 0
}

func (l *liveUsers) ActiveUsers() []string {
	if srv := l.server(); srv != nil {
		return srv.ActiveUsers()
	}
	return nil
}

// newAdmin builds the staff console handler and sets a.admin, a.adminLive
// and a.adminNotice.
func (a *app) newAdmin(ctx context.Context, cfg configs.Config) error {
	hash, notice, err := adminToken(ctx, cfg.Admin, a.store)
	if err != nil {
		return err
	}
	opts := admin.Options{
		Store: a.store, Live: &a.adminLive, Catalog: &catalogUploads{a: a}, Reports: a.reports,
		Segments:  segmentRuns{a: a},
		TokenHash: hash,
		Logger:    a.log.With("component", "admin"),
	}
	if cfg.Memory.MaskStored {
		opts.Mask = memory.MaskPII
	}
	a.admin, err = admin.New(opts)
	if err != nil {
		return err
	}
	a.adminNotice = notice
	return nil
}

// catalogUploads imports uploaded catalog files into the running index.
// Searches keep using the previous catalog while an import runs, because
// the index swaps in the new state when it is written.
type catalogUploads struct {
	a  *app
	mu sync.Mutex // one upload at a time
}

func (c *catalogUploads) ImportCatalog(ctx context.Context, r io.Reader, req admin.CatalogRequest) (admin.CatalogResult, error) {
	c.a.mu.Lock()
	ix := c.a.index
	c.a.mu.Unlock()
	if ix == nil {
		return admin.CatalogResult{}, fmt.Errorf("%w: the index is still loading; retry when /readyz reports ready",
			admin.ErrCatalogUnavailable)
	}

	res, err := retrieval.Import(r, req.Name, retrieval.ImportOptions{Format: retrieval.Format(req.Format)})
	if err != nil {
		return admin.CatalogResult{}, fmt.Errorf("%w: %w", admin.ErrCatalogInput, err)
	}
	if len(res.Products) == 0 && req.Prune {
		return admin.CatalogResult{}, fmt.Errorf("%w: no products could be read, so prune would empty "+
			"the catalog; fix the file or upload without prune", admin.ErrCatalogInput)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	out := admin.CatalogResult{Format: string(res.Format), Imported: len(res.Products),
		Skipped: len(res.Errors), Before: ix.Len()}
	if req.Prune {
		err = ix.Replace(ctx, res.Products)
	} else {
		err = ix.Upsert(ctx, res.Products)
	}
	if err != nil {
		return admin.CatalogResult{}, fmt.Errorf("write catalog index: %w", err)
	}
	out.After = ix.Len()
	for _, re := range res.Errors[:min(len(res.Errors), maxCatalogRowErrors)] {
		out.Errors = append(out.Errors, re.Error())
	}
	return out, nil
}

// purger is the part of the store the retention job uses.
type purger interface {
	PurgeBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// retentionJob deletes stored records older than days, once at start and
// then on every tick, until ctx is done.
type retentionJob struct {
	store purger
	days  int
	now   func() time.Time
	log   *slog.Logger
}

// run purges at once and then on every tick until ctx is done.
func (j retentionJob) run(ctx context.Context, tick <-chan time.Time) {
	for {
		j.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// purge deletes the records older than the retention period. A failure is
// logged and the next tick tries again.
func (j retentionJob) purge(ctx context.Context) {
	cutoff := j.now().Add(-time.Duration(j.days) * 24 * time.Hour)
	n, err := j.store.PurgeBefore(ctx, cutoff)
	if err != nil {
		if ctx.Err() == nil {
			j.log.Error("retention purge failed; retrying at the next run", "cutoff", cutoff,
				"retention_days", j.days, "error", err)
		}
		return
	}
	j.log.Debug("retention purge done", "cutoff", cutoff, "retention_days", j.days, "messages_deleted", n)
}

// startRetention starts the retention job when memory.retention_days is set
// and returns a function that stops it and waits for it to return.
func startRetention(cfg configs.Memory, store purger, log *slog.Logger) (stop func()) {
	if cfg.RetentionDays <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ticker := time.NewTicker(retentionInterval)
	done := make(chan struct{})
	job := retentionJob{store: store, days: cfg.RetentionDays, now: time.Now, log: log}
	go func() {
		defer close(done)
		job.run(ctx, ticker.C)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			ticker.Stop()
			<-done
		})
	}
}

// segmentRuns runs the segment job when staff ask for it.
type segmentRuns struct {
	a *app
}

func (s segmentRuns) RunSegments(ctx context.Context) (any, error) {
	if s.a.segments == nil {
		return nil, errors.New("the segment job has not started")
	}
	report, err := s.a.segments.RunNow(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": report.Users, "updated": report.Updated, "sizes": report.Sizes,
		"silhouette": report.Silhouette, "duration_ms": report.Duration.Milliseconds()}, nil
}
