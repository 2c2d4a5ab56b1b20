package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	// ErrNotFound is returned when a user, message or state key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("memory store closed")
	// ErrInvalidCursor is returned by Conversations when the cursor was not
	// produced by an earlier call.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// Options configures Open.
type Options struct {
	// Logger receives compaction and retention logs; nil discards them.
	Logger *slog.Logger
	// LockTimeout is how long Open waits for another process to release the
	// file lock; zero means 1s.
	LockTimeout time.Duration
	// MaskStored is applied to message text before it is stored, for example
	// to mask emails and phone numbers; nil stores text as is.
	MaskStored func(string) string
	// Now is the clock for message, event and profile times; nil means time.Now.
	Now func() time.Time
}

// Store is the bbolt-backed memory of users, conversations and offer
// outcomes. It is safe for concurrent use.
type Store struct {
	path   string
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	mask   func(string) string

	// writers counts write calls in flight, so a lone writer commits at once
	// instead of waiting for the batch delay.
	writers atomic.Int64

	// mu guards db. Methods hold it for reading while they use db; Close and
	// compaction hold it for writing because they close and replace db.
	mu sync.RWMutex
	db *bolt.DB
}

// Open opens or creates the bbolt file at path, creates the top-level
// buckets and returns the store. The file is locked against other processes
// until Close.
func Open(path string, opts Options) (*Store, error) {
	s := &Store{path: path, opts: opts, logger: opts.Logger, now: opts.Now, mask: opts.MaskStored}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.mask == nil {
		s.mask = func(text string) string { return text }
	}

	db, err := s.openDB()
	if err != nil {
		return nil, err
	}
	s.db = db
	return s, nil
}

func (s *Store) openDB() (*bolt.DB, error) {
	timeout := s.opts.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("open memory store %s: %w", s.path, err)
	}

	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open memory store %s: %w", s.path, err)
	}
	// bbolt's default batch delay of 10ms caps a busy store at about 100
	// batches per second; 1ms keeps batches large while fsync is the
	// bottleneck without making grouped writers wait long.
	db.MaxBatchDelay = time.Millisecond
	return db, nil
}

// Close closes the bbolt file. Calling Close again returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	if err != nil {
		return fmt.Errorf("close memory store: %w", err)
	}
	return nil
}

// Check runs bbolt's consistency check over the whole file and returns the
// first inconsistency found, or nil.
func (s *Store) Check() error {
	return s.view(context.Background(), func(tx *bolt.Tx) error {
		var first error
		// Drain the channel so the checking goroutine finishes.
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("check memory store: %w", first)
		}
		return nil
	})
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.db == nil {
		return ErrClosed
	}
	return s.db.View(fn)
}

// update runs fn in a write transaction and returns after the commit is on
// disk. Concurrent calls are grouped into one transaction with DB.Batch, so
// fn may run more than once: it must derive everything from tx and assign
// its results afresh on every run.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.db == nil {
		return ErrClosed
	}
	if s.writers.Add(1) == 1 {
		// No other writer is waiting: a batch would only add its delay.
		defer s.writers.Add(-1)
		return s.db.Update(fn)
	}
	defer s.writers.Add(-1)
	return s.db.Batch(fn)
}

// compact rewrites the file without its free pages, so bytes of deleted
// records are gone from it. It copies every bucket into a temporary file,
// syncs it, renames it over the store's file and reopens it, all under the
// store's write lock.
func (s *Store) compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.db == nil {
		return ErrClosed
	}
	tmp := s.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("compact: remove stale %s: %w", tmp, err)
	}
	if err := copyCompacted(s.db, tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}

	if err := s.db.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compact: close old file: %w", err)
	}
	s.db = nil
	if err := os.Rename(tmp, s.path); err != nil {
		_ = os.Remove(tmp)
		return s.reopenAfter(fmt.Errorf("compact: rename %s: %w", tmp, err))
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return s.reopenAfter(fmt.Errorf("compact: %w", err))
	}
	return s.reopenAfter(nil)
}

// reopenAfter reopens the store's file after compaction closed it and
// returns cause, or the reopen error when reopening failed. When reopening
// fails the store stays closed.
func (s *Store) reopenAfter(cause error) error {
	db, err := s.openDB()
	if err != nil {
		s.logger.Error("memory store reopen failed", "path", s.path, "error", err)
		return errors.Join(cause, err)
	}
	s.db = db
	return cause
}

func copyCompacted(src *bolt.DB, tmp string) error {
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact: open %s: %w", tmp, err)
	}
	// Commit every 4 MiB of copied data to bound the transaction's memory.
	if err := bolt.Compact(dst, src, 4<<20); err != nil {
		_ = dst.Close()
		return fmt.Errorf("compact: copy: %w", err)
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		return fmt.Errorf("compact: sync %s: %w", tmp, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("compact: close %s: %w", tmp, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer f.Close()

	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
