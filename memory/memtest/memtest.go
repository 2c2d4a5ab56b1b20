// Package memtest opens temporary memory stores for tests.
package memtest

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/concierge-chat/concierge/memory"
)

// Open opens a store on a new bbolt file in t.TempDir(). At cleanup it runs
// the store's consistency check, failing the test on an inconsistency, and
// closes the store. A store the test closed itself is not checked.
func Open(t testing.TB) *memory.Store {
	t.Helper()
	return OpenOptions(t, memory.Options{})
}

// OpenOptions is Open with the given options.
func OpenOptions(t testing.TB, opts memory.Options) *memory.Store {
	t.Helper()
	s, err := memory.Open(filepath.Join(t.TempDir(), "memory.db"), opts)
	if err != nil {
		t.Fatalf("open memory store: %v", err)
	}
	t.Cleanup(func() {
		// A test may have closed the store itself; there is nothing to check then.
		if err := s.Check(); err != nil && !errors.Is(err, memory.ErrClosed) {
			t.Errorf("memory store consistency check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close memory store: %v", err)
		}
	})
	return s
}
