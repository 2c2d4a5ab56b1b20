package admin

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Failed token attempts allowed per client address in each window.
const (
	maxFailedAttempts = 20
	failureWindow     = time.Minute
)

// lockout counts failed token attempts per client address in fixed
// windows, so a guessing client is turned away with 429 before its guesses
// are checked. It is safe for concurrent use.
type lockout struct {
	now func() time.Time

	mu       sync.Mutex
	failures map[string]int // guarded by mu
	window   time.Time      // start of the current window; guarded by mu
}

func newLockout(now func() time.Time) *lockout {
	return &lockout{now: now, failures: map[string]int{}}
}

// blocked reports whether addr has used up its failed attempts, and when
// the window ends.
func (l *lockout) blocked(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked()
	return l.failures[addr] >= maxFailedAttempts, l.window.Add(failureWindow).Sub(l.now())
}

// fail records a failed attempt from addr.
func (l *lockout) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked()
	l.failures[addr]++
}

// rollLocked starts a new window, forgetting old failures, when the
// current one has ended.
func (l *lockout) rollLocked() {
	if now := l.now(); now.Sub(l.window) >= failureWindow {
		l.window = now
		clear(l.failures)
	}
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeLockedOut(w http.ResponseWriter, wait time.Duration) {
	secs := int(wait.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "",
		"too many invalid staff tokens from this address; retry in "+strconv.Itoa(secs)+" s")
}
