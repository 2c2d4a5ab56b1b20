package offer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var errStateNotFound = errors.New("state key not found")

// boltState is a State over a real bbolt file, shaped like memory.Store:
// GetState wraps errStateNotFound for a missing key.
type boltState struct {
	db *bolt.DB
}

var (
	stateBucket  = []byte("state")
	totalsBucket = []byte("totals")
)

func openBoltState(t *testing.T, path string) *boltState {
	t.Helper()
	return openBoltStateTB(t, path)
}

func openBoltStateTB(t testing.TB, path string) *boltState {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open bbolt %s: %v", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(stateBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(totalsBucket)
		return err
	})
	if err != nil {
		t.Fatalf("create buckets: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return &boltState{db: db}
}

func newBoltState(t *testing.T) *boltState {
	t.Helper()
	return openBoltState(t, filepath.Join(t.TempDir(), "state.db"))
}

func (s *boltState) GetState(_ context.Context, key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(stateBucket).Get([]byte(key))
		if v == nil {
			return errStateNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get state %s: %w", key, err)
	}
	return out, nil
}

func (s *boltState) PutState(_ context.Context, key string, value []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(stateBucket).Put([]byte(key), value)
	})
}

func (s *boltState) OfferTotals(context.Context) (map[string]int, error) {
	totals := make(map[string]int)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(totalsBucket).ForEach(func(k, v []byte) error {
			n, err := strconv.Atoi(string(v))
			totals[string(k)] = n
			return err
		})
	})
	return totals, err
}

func (s *boltState) setTotal(t *testing.T, offerID string, n int) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(totalsBucket).Put([]byte(offerID), []byte(strconv.Itoa(n)))
	})
	if err != nil {
		t.Fatalf("set total %s: %v", offerID, err)
	}
}

func isStateNotFound(err error) bool { return errors.Is(err, errStateNotFound) }
