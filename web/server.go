package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/concierge-chat/concierge/bot"
)

// Config holds the HTTP and WebSocket settings. Zero values take the
// defaults documented on each field.
type Config struct {
	// AllowedOrigins lists the page origins (scheme://host[:port]) that may
	// open /ws. Empty allows only pages served from the server's own host;
	// "*" allows any origin.
	AllowedOrigins []string
	// RequireOrigin rejects upgrades without an Origin header (back ends
	// that relay chats do not send one).
	RequireOrigin          bool
	MaxFrameBytes          int           // default 65,536
	MaxMessageRunes        int           // default 2,000
	MessagesPerMinute      int           // per user; default 30
	MessagesPerMinutePerIP int           // default 120
	EventsPerMinute        int           // per user; default 120
	MaxConnsPerIP          int           // default 50
	SendQueue              int           // frames buffered per connection; default 256
	MaxPendingMessages     int           // messages waiting for their turn; default 8
	PingInterval           time.Duration // default 25s
	PongTimeout            time.Duration // default 60s
	WriteTimeout           time.Duration // per frame; default 10s
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxFrameBytes, 65536)
	def(&c.MaxMessageRunes, 2000)
	def(&c.MessagesPerMinute, 30)
	def(&c.MessagesPerMinutePerIP, 120)
	def(&c.EventsPerMinute, 120)
	def(&c.MaxConnsPerIP, 50)
	def(&c.SendQueue, 256)
	def(&c.MaxPendingMessages, 8)
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = 60 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
}

// Engine is the turn pipeline as the server uses it. *bot.Engine
// implements it.
type Engine interface {
	Hello(ctx context.Context, s bot.Session, resumeAfter uint64) (bot.HelloResult, error)
	Turn(ctx context.Context, s bot.Session, in bot.Incoming, sink bot.Sink) (bot.Reply, error)
	Event(ctx context.Context, s bot.Session, ev bot.Event) error
	ListProducts(ctx context.Context, q bot.ProductQuery) bot.ProductList
	Product(id, lang string) (bot.ProductCard, string, bool)
	OfferCard(id, lang, scenarioLabel, festival string) (*bot.OfferCard, bool)
}

// Options configures New. Engine and Identity are required.
type Options struct {
	Config   Config
	Engine   Engine
	Identity *Identity
	// Admin serves /admin and /api/admin/; nil leaves them unrouted.
	Admin http.Handler
	// OnMessage is called after a shopper message or a bot reply is stored,
	// with the text as the shopper or the bot wrote it, for the staff
	// console's live view. It runs on the connection's turn goroutine, so it
	// must not block. Nil disables it.
	OnMessage func(userID, role, text string, seq uint64)
	// Ready reports whether the catalog index is loaded; nil means always.
	Ready  func() bool
	Logger *slog.Logger
	Now    func() time.Time
}

// Server serves the widget, the demo store, the WebSocket protocol, health
// and metrics. It is safe for concurrent use.
type Server struct {
	cfg      Config
	engine   Engine
	identity *Identity
	admin    http.Handler
	onMsg    func(userID, role, text string, seq uint64)
	ready    func() bool
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics
	upgrader websocket.Upgrader

	userLimit *rateLimiter
	ipLimit   *rateLimiter
	// eventLimit bounds stored events per user, because events are not
	// counted against the message limits.
	eventLimit *rateLimiter
	ipConns    *connCounter
	turnLocks  *keyedMutex

	mu       sync.Mutex
	conns    map[*conn]struct{}            // guarded by mu
	users    map[string]map[*conn]struct{} // guarded by mu
	closing  bool                          // guarded by mu
	connsWG  sync.WaitGroup
	shutOnce sync.Once
	done     chan struct{} // closed when Shutdown begins
	started  time.Time
}

func (s *Server) startTime() time.Time { return s.started }

// New checks opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil || opts.Identity == nil {
		return nil, errors.New("web: Engine and Identity are required")
	}
	cfg := opts.Config
	cfg.setDefaults()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ready := opts.Ready
	if ready == nil {
		ready = func() bool { return true }
	}
	s := &Server{
		cfg: cfg, engine: opts.Engine, identity: opts.Identity, admin: opts.Admin, onMsg: opts.OnMessage,
		ready: ready, log: log, now: now, metrics: newMetrics(),
		userLimit:  newRateLimiter(cfg.MessagesPerMinute, now),
		ipLimit:    newRateLimiter(cfg.MessagesPerMinutePerIP, now),
		eventLimit: newRateLimiter(cfg.EventsPerMinute, now),
		ipConns:    newConnCounter(cfg.MaxConnsPerIP),
		turnLocks:  newKeyedMutex(),
		conns:      map[*conn]struct{}{},
		users:      map[string]map[*conn]struct{}{},
		done:       make(chan struct{}),
		started:    now(),
	}
	s.upgrader = websocket.Upgrader{
		// Frames are read in 512-byte steps, and the write buffer comes
		// from a pool for the length of one frame, so an idle connection
		// holds 512 bytes of buffers instead of 8 KiB.
		ReadBufferSize: 512, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
		CheckOrigin: s.checkOrigin,
		// Compression costs memory per connection and chat frames are small.
		EnableCompression: false,
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			log.Warn("any origin may open /ws", "setting", "web.allowed_origins")
		}
	}
	return s, nil
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	s.routeAssets(mux)
	if s.admin != nil {
		mux.Handle("/admin", s.admin)
		mux.Handle("/admin/", s.admin)
		mux.Handle("/api/admin/", s.admin)
	}
	return mux
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	switch {
	case closing:
		writeText(w, http.StatusServiceUnavailable, "shutting down\n")
	case !s.ready():
		writeText(w, http.StatusServiceUnavailable, "catalog index is loading\n")
	default:
		writeText(w, http.StatusOK, "ready\n")
	}
}

// checkOrigin allows a request without Origin (a back end) unless
// RequireOrigin is set, the origins in AllowedOrigins, or, when that list is
// empty, an origin on the server's own host.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return !s.cfg.RequireOrigin
	}
	if len(s.cfg.AllowedOrigins) == 0 {
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	return slices.ContainsFunc(s.cfg.AllowedOrigins, func(o string) bool {
		return o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.connsWG.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "server is shutting down; reconnect later", http.StatusServiceUnavailable)
		return
	}
	ws := s.upgrade(w, r, ip)
	if ws == nil {
		s.connsWG.Done()
		return
	}
	c := newConn(s, ws, ip)
	s.track(c, true)
	// The connection runs on a goroutine of its own and the handler
	// returns, so net/http frees its per-request state (the request and
	// its buffers) while the socket stays open.
	go func() {
		defer s.connsWG.Done()
		defer s.ipConns.release(ip)
		defer s.track(c, false)
		c.run()
	}()
}

// upgrade checks the origin and the per-address connection limit and
// upgrades the request. On nil it has already written the HTTP error; on
// success the caller must release the address's connection slot.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, ip string) *websocket.Conn {
	if !s.checkOrigin(r) {
		s.log.Warn("origin rejected", "origin", r.Header.Get("Origin"), "remote", ip)
		http.Error(w, "origin not allowed; add it to web.allowed_origins", http.StatusForbidden)
		return nil
	}
	if !s.ipConns.acquire(ip) {
		s.metrics.rateLimited.WithLabelValues("connections_per_ip").Inc()
		s.log.Warn("connection limit reached", "remote", ip, "limit", s.cfg.MaxConnsPerIP)
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return nil
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.ipConns.release(ip)
		// The upgrader has already written the HTTP error.
		s.log.Warn("websocket upgrade failed", "remote", ip, "error", err)
		return nil
	}
	return ws
}

func (s *Server) track(c *conn, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if open {
		s.conns[c] = struct{}{}
		s.metrics.connections.Inc()
		s.metrics.connsTotal.Inc()
		return
	}
	delete(s.conns, c)
	s.metrics.connections.Dec()
	if c.userID != "" {
		s.leaveUserLocked(c)
	}
}

// joinUser registers c as a connection of its user, for frames addressed
// to the user (staff messages).
func (s *Server) joinUser(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.users[c.userID]
	if set == nil {
		set = map[*conn]struct{}{}
		s.users[c.userID] = set
	}
	set[c] = struct{}{}
}

func (s *Server) leaveUserLocked(c *conn) {
	if set := s.users[c.userID]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(s.users, c.userID)
		}
	}
}

// SendToUser sends a frame to every open connection of userID and returns
// how many there were.
func (s *Server) SendToUser(userID string, frame any) int {
	data, err := json.Marshal(frame)
	if err != nil {
		s.log.Error("encode frame", "user_id", userID, "error", err)
		return 0
	}
	s.mu.Lock()
	targets := make([]*conn, 0, len(s.users[userID]))
	for c := range s.users[userID] {
		targets = append(targets, c)
	}
	s.mu.Unlock()
	for _, c := range targets {
		c.sendRaw(data)
	}
	return len(targets)
}

// notifyTurn reports the messages a finished turn stored to OnMessage. A
// duplicate stored nothing, and a handed-over turn stored only the
// shopper's message.
func (s *Server) notifyTurn(userID, text string, r bot.Reply) {
	if s.onMsg == nil || r.Duplicate {
		return
	}
	s.onMsg(userID, "user", text, r.UserSeq)
	if !r.HandedOver && r.Seq != 0 {
		s.onMsg(userID, "assistant", r.Text, r.Seq)
	}
}

// ActiveUsers returns the users with an open connection.
func (s *Server) ActiveUsers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.users))
	for u := range s.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Shutdown stops accepting connections, lets running turns finish until
// ctx is done, closes every connection with 1001 and waits for their
// goroutines. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		close(s.done)
	})
	waited := make(chan struct{})
	go func() {
		s.connsWG.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.abort()
		}
		s.mu.Unlock()
		<-waited
		return ctx.Err()
	}
}

// Connections returns the number of open WebSocket connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// keyedMutex serialises work per key (one turn at a time per
// conversation) and drops the lock of a key once no caller holds it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*refMutex // guarded by mu
}

type refMutex struct {
	sync.Mutex
	refs int // guarded by keyedMutex.mu
}

func newKeyedMutex() *keyedMutex {
	return &keyedMutex{locks: map[string]*refMutex{}}
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	m := k.locks[key]
	if m == nil {
		m = &refMutex{}
		k.locks[key] = m
	}
	m.refs++
	k.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		if m.refs--; m.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
