package memory_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

// clock is a test clock that moves forward by step on every reading.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), step: time.Second}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// Set moves the clock so the next reading is t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.Add(-c.step)
}

// openClocked opens a temporary store whose clock is the returned test clock.
func openClocked(t *testing.T) (*memory.Store, *clock) {
	t.Helper()
	c := newClock()
	return memtest.OpenOptions(t, memory.Options{Now: c.Now}), c
}

// openFile opens a store at path and closes it at cleanup.
func openFile(t *testing.T, path string, opts memory.Options) *memory.Store {
	t.Helper()
	s, err := memory.Open(path, opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tempPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "memory.db")
}

func appendUser(t *testing.T, s *memory.Store, userID, clientID, text string) memory.Message {
	t.Helper()
	msg, _, err := s.AppendUserMessage(t.Context(), userID, clientID, text)
	if err != nil {
		t.Fatalf("append user message %q for %s: %v", text, userID, err)
	}
	return msg
}

func appendAssistant(t *testing.T, s *memory.Store, userID, text string, turn *memory.TurnRecord) memory.Message {
	t.Helper()
	msg, err := s.AppendReply(t.Context(), userID, memory.RoleAssistant, text, turn)
	if err != nil {
		t.Fatalf("append reply %q for %s: %v", text, userID, err)
	}
	return msg
}

func seqs(msgs []memory.Message) []uint64 {
	out := make([]uint64, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}
