package web

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per key: each key may spend perMinute
// tokens a minute, with bursts up to perMinute. It is safe for concurrent
// use.
type rateLimiter struct {
	perMinute float64
	now       func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket // guarded by mu
	swept   time.Time          // guarded by mu
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	return &rateLimiter{perMinute: float64(perMinute), now: now, buckets: map[string]*bucket{}}
}

// allow spends a token for key. When none is left it returns false and how
// long until one is.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.perMinute, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute))
		return false, wait
	}
	b.tokens--
	return true, 0
}

// sweepLocked drops full buckets once a minute so idle keys do not pile up.
func (l *rateLimiter) sweepLocked(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Minutes()*l.perMinute >= l.perMinute {
			delete(l.buckets, k)
		}
	}
}

// connCounter counts open connections per address. It is safe for
// concurrent use.
type connCounter struct {
	max int

	mu    sync.Mutex
	count map[string]int // guarded by mu
}

func newConnCounter(max int) *connCounter {
	return &connCounter{max: max, count: map[string]int{}}
}

// acquire reserves a connection slot for ip; false means the address is at
// its limit.
func (c *connCounter) acquire(ip string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[ip] >= c.max {
		return false
	}
	c.count[ip]++
	return true
}

func (c *connCounter) release(ip string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[ip]--; c.count[ip] <= 0 {
		delete(c.count, ip)
	}
}
