package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/web"
)

// The tests and benchmarks in this file exercise the connection layer
// under load: a slow reader, silent clients, idle memory and the cost of
// one turn. loadEngine replaces the turn pipeline so that only the
// server's own work is measured.

// loadSecret signs visitor ids in the load servers.
var loadSecret = []byte("load-test-visitor-secret-0123456")

// floodText makes loadEngine stream deltas until the turn is cancelled.
const floodText = "flood"

// loadEngine replies to every message with a fixed number of deltas, or, for
// floodText, with deltas until its context ends (at most floodDeltas). It
// stores nothing.
type loadEngine struct {
	deltas int    // deltas per ordinary reply
	chunk  string // text of each delta
	seq    atomic.Uint64
}

// floodDeltas bounds a flood reply, so a test that fails to trip the send
// queue still ends.
const floodDeltas = 200_000

func (e *loadEngine) Hello(ctx context.Context, s bot.Session, resumeAfter uint64) (bot.HelloResult, error) {
	return bot.HelloResult{ConversationID: "c_" + s.UserID}, nil
}

func (e *loadEngine) Turn(ctx context.Context, s bot.Session, in bot.Incoming, sink bot.Sink) (bot.Reply, error) {
	seq := e.seq.Add(2)
	turnID := "t_" + strconv.FormatUint(seq, 10)
	sink.Start(turnID, seq-1)
	n, chunk := e.deltas, e.chunk
	if in.Text == floodText {
		n, chunk = floodDeltas, strings.Repeat("x", 8<<10)
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		sink.Delta(chunk, false)
	}
	return bot.Reply{TurnID: turnID, InReplyTo: in.ClientID, UserSeq: seq - 1, Seq: seq,
		Text: strings.Repeat(e.chunk, e.deltas), Stats: bot.TurnStats{Outcome: "answered"}}, nil
}

func (e *loadEngine) Event(ctx context.Context, s bot.Session, ev bot.Event) error { return nil }

func (e *loadEngine) ListProducts(context.Context, bot.ProductQuery) bot.ProductList {
	return bot.ProductList{}
}

func (e *loadEngine) Product(id, lang string) (bot.ProductCard, string, bool) {
	return bot.ProductCard{}, "", false
}

func (e *loadEngine) OfferCard(id, lang, scenarioLabel, festival string) (*bot.OfferCard, bool) {
	return nil, false
}

// newLoadServer starts a web.Server over eng on a loopback httptest server,
// with the per-user and per-address limits raised out of the way unless cfg
// sets them. It shuts both down at cleanup.
func newLoadServer(tb testing.TB, cfg web.Config, eng web.Engine) (*web.Server, string) {
	tb.Helper()
	if cfg.MessagesPerMinute == 0 {
		cfg.MessagesPerMinute = 1 << 30
	}
	if cfg.MessagesPerMinutePerIP == 0 {
		cfg.MessagesPerMinutePerIP = 1 << 30
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = 1 << 20
	}
	identity, err := web.NewIdentity(web.IdentityOptions{Secret: loadSecret})
	if err != nil {
		tb.Fatalf("new identity: %v", err)
	}
	srv, err := web.New(web.Options{Config: cfg, Engine: eng, Identity: identity})
	if err != nil {
		tb.Fatalf("new web server: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(ts.Close)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shut down web server: %v", err)
		}
	})
	return srv, ts.URL
}

// loadFrame is the subset of server frame fields these tests read.
type loadFrame struct {
	Type      string `json:"type"`
	InReplyTo string `json:"in_reply_to"`
	Code      string `json:"code"`
}

// dialLoad opens /ws, sends hello and reads ready, and closes the
// connection at cleanup.
func dialLoad(tb testing.TB, baseURL string, dialer *websocket.Dialer) *websocket.Conn {
	tb.Helper()
	ws, err := dialHello(baseURL, dialer)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ws.Close() })
	return ws
}

// dialHello opens /ws, sends hello and reads ready. It returns an error
// instead of failing, so goroutines can call it.
func dialHello(baseURL string, dialer *websocket.Dialer) (*websocket.Conn, error) {
	if dialer == nil {
		dialer = websocket.DefaultDialer
	}
	ws, _, err := dialer.Dial("ws"+strings.TrimPrefix(baseURL, "http")+"/ws", nil)
	if err != nil {
		return nil, fmt.Errorf("dial /ws: %w", err)
	}
	if err := ws.WriteJSON(map[string]any{"type": "hello", "protocol": 1, "locale": "en"}); err != nil {
		ws.Close()
		return nil, fmt.Errorf("send hello: %w", err)
	}
	var f loadFrame
	if err := ws.ReadJSON(&f); err != nil {
		ws.Close()
		return nil, fmt.Errorf("read ready: %w", err)
	}
	if f.Type != "ready" {
		ws.Close()
		return nil, fmt.Errorf("first frame after hello is %q, want ready", f.Type)
	}
	return ws, nil
}

// roundTrip sends one message and reads frames until its reply.end. It
// returns an error instead of failing, so goroutines can call it.
func roundTrip(ws *websocket.Conn, id, text string) error {
	if err := ws.WriteJSON(map[string]string{"type": "message", "id": id, "text": text}); err != nil {
		return fmt.Errorf("send message %s: %w", id, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer ws.SetReadDeadline(time.Time{})
	for {
		var f loadFrame
		if err := ws.ReadJSON(&f); err != nil {
			return fmt.Errorf("read reply to %s: %w", id, err)
		}
		switch {
		case f.Type == "reply.end" && f.InReplyTo == id:
			return nil
		case f.Type == "error":
			return fmt.Errorf("error frame %s in reply to %s", f.Code, id)
		}
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricsText returns the /metrics page.
func metricsText(tb testing.TB, baseURL string) string {
	tb.Helper()
	resp, err := http.Get(baseURL + "/metrics")
	if err != nil {
		tb.Fatalf("get /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read /metrics: %v", err)
	}
	return string(body)
}

func TestSlowConsumerClosedWithPolicy(t *testing.T) {
	eng := &loadEngine{deltas: 3, chunk: "ok "}
	srv, base := newLoadServer(t, web.Config{SendQueue: 16, WriteTimeout: 2 * time.Second}, eng)
	slow := dialLoad(t, base, nil)
	fast := dialLoad(t, base, nil)

	// The slow client asks for an endless reply and never reads it.
	if err := slow.WriteJSON(map[string]string{"type": "message", "id": "flood-1", "text": floodText}); err != nil {
		t.Fatalf("send flood message: %v", err)
	}
	for i := range 5 {
		if err := roundTrip(fast, fmt.Sprintf("during-%d", i), "hello"); err != nil {
			t.Fatalf("fast client while the slow one floods: %v", err)
		}
	}
	const closedSlow = `concierge_rate_limited_total{scope="send_queue"} 1`
	eventually(t, 20*time.Second, "the slow client to overflow its send queue", func() bool {
		return strings.Contains(metricsText(t, base), closedSlow)
	})
	eventually(t, 10*time.Second, "the slow connection to end", func() bool {
		return srv.Connections() == 1
	})

	// Reading now drains the frames the kernel buffered. The close frame
	// arrives only if it fit in the socket buffer, so an abrupt end is
	// accepted too.
	_ = slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	var readErr error
	for readErr == nil {
		_, _, readErr = slow.ReadMessage()
	}
	var ce *websocket.CloseError
	if errors.As(readErr, &ce) && ce.Code != websocket.ClosePolicyViolation && ce.Code != websocket.CloseAbnormalClosure {
		t.Errorf("slow client close code = %d, want %d (policy violation)", ce.Code, websocket.ClosePolicyViolation)
	}
	for i := range 5 {
		if err := roundTrip(fast, fmt.Sprintf("after-%d", i), "hello"); err != nil {
			t.Fatalf("fast client after the slow one was closed: %v", err)
		}
	}
}

func TestPingTimeoutClosesSilentClient(t *testing.T) {
	eng := &loadEngine{deltas: 1, chunk: "ok"}
	srv, base := newLoadServer(t, web.Config{PingInterval: 20 * time.Millisecond,
		PongTimeout: 150 * time.Millisecond}, eng)

	silent := dialLoad(t, base, nil)
	silent.SetPingHandler(func(string) error { return nil })
	silentDone := make(chan error, 1)
	go func() {
		for {
			if _, _, err := silent.ReadMessage(); err != nil {
				silentDone <- err
				return
			}
		}
	}()

	awake := dialLoad(t, base, nil)
	var pings atomic.Int32
	awake.SetPingHandler(func(data string) error {
		pings.Add(1)
		return awake.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	awakeFrames := make(chan loadFrame, 16)
	awakeErr := make(chan error, 1)
	go func() {
		for {
			var f loadFrame
			if err := awake.ReadJSON(&f); err != nil {
				awakeErr <- err
				return
			}
			awakeFrames <- f
		}
	}()

	select {
	case <-silentDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the client that ignores pings is still open after 10s")
	}
	// Twenty pings span 400ms, well past the 150ms pong timeout.
	eventually(t, 10*time.Second, "20 pings to the answering client", func() bool {
		return pings.Load() >= 20
	})
	if got := srv.Connections(); got != 1 {
		t.Errorf("open connections = %d, want 1 (the answering client)", got)
	}
	if err := awake.WriteJSON(map[string]string{"type": "message", "id": "m1", "text": "still there?"}); err != nil {
		t.Fatalf("send on the answering client: %v", err)
	}
	for {
		select {
		case f := <-awakeFrames:
			if f.Type == "reply.end" {
				return
			}
		case err := <-awakeErr:
			t.Fatalf("answering client was closed: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no reply.end on the answering client after 10s")
		}
	}
}

// BenchmarkTurnRoundTrip measures one message to its reply.end through the
// server over loopback, client included, by the number of reply.delta
// frames in the reply.
func BenchmarkTurnRoundTrip(b *testing.B) {
	for _, deltas := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("deltas=%d", deltas), func(b *testing.B) {
			eng := &loadEngine{deltas: deltas, chunk: "a short chunk "}
			_, base := newLoadServer(b, web.Config{}, eng)
			ws := dialLoad(b, base, nil)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := roundTrip(ws, strconv.Itoa(i), "hello"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Environment of the idle-client helper process.
const (
	idleURLEnv   = "CONCIERGE_IDLE_CLIENTS_URL"
	idleCountEnv = "CONCIERGE_IDLE_CLIENTS_N"
)

// BenchmarkIdleConnections reports the server's heap and stack per idle
// connection after hello. The clients run in a child process, so their
// buffers do not count; the figure still includes httptest's per-request
// bookkeeping.
func BenchmarkIdleConnections(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			raiseFileLimit(b, n+256)
			srv, base := newLoadServer(b, web.Config{}, &loadEngine{deltas: 1, chunk: "ok"})
			var sum idleCost
			runs := 0
			for b.Loop() {
				cost := measureIdle(b, srv, base, n)
				sum.heap += cost.heap
				sum.stack += cost.stack
				sum.goroutines += cost.goroutines
				runs++
			}
			b.ReportMetric((sum.heap+sum.stack)/float64(runs), "B/conn")
			b.ReportMetric(sum.heap/float64(runs), "heap-B/conn")
			b.ReportMetric(sum.stack/float64(runs), "stack-B/conn")
			b.ReportMetric(sum.goroutines/float64(runs), "goroutines/conn")
		})
	}
}

// idleCost is the growth of HeapInuse, StackInuse and the goroutine count
// per idle connection.
type idleCost struct {
	heap, stack, goroutines float64
}

// measureIdle starts a child process holding n idle connections and
// returns what they cost the server once all are open.
func measureIdle(b *testing.B, srv *web.Server, base string, n int) idleCost {
	b.Helper()
	before := inUse()
	goroutinesBefore := runtime.NumGoroutine()

	child := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$")
	child.Env = append(os.Environ(), idleURLEnv+"="+base, idleCountEnv+"="+strconv.Itoa(n))
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		b.Fatalf("child stdin: %v", err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		b.Fatalf("child stdout: %v", err)
	}
	if err := child.Start(); err != nil {
		b.Fatalf("start idle clients: %v", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		child.Process.Kill()
		child.Wait()
		b.Fatalf("idle clients did not get ready: %q %v", line, err)
	}
	eventually(b, 30*time.Second, "the server to count every idle connection", func() bool {
		return srv.Connections() == n
	})
	after := inUse()
	goroutines := runtime.NumGoroutine() - goroutinesBefore

	stdin.Close()
	if err := child.Wait(); err != nil {
		b.Fatalf("idle clients: %v", err)
	}
	eventually(b, 30*time.Second, "the idle connections to close", func() bool {
		return srv.Connections() == 0
	})
	return idleCost{heap: float64(after.HeapInuse-before.HeapInuse) / float64(n),
		stack:      float64(after.StackInuse-before.StackInuse) / float64(n),
		goroutines: float64(goroutines) / float64(n)}
}

func inUse() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// raiseFileLimit raises the soft limit on open files to need, up to the
// hard limit, and skips when that is not enough.
func raiseFileLimit(tb testing.TB, need int) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Skipf("read the open-file limit: %v", err)
	}
	if lim.Cur >= uint64(need) {
		return
	}
	lim.Cur = min(uint64(need), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(need) {
		tb.Skipf("need %d open files, the limit is %d (hard %d)", need, lim.Cur, lim.Max)
	}
}

// TestIdleClientsHelper is the child process of BenchmarkIdleConnections:
// it opens the connections, prints "ready" and holds them until its stdin
// closes. Without its environment it skips.
func TestIdleClientsHelper(t *testing.T) {
	base := os.Getenv(idleURLEnv)
	if base == "" {
		t.Skip("runs only as the child process of BenchmarkIdleConnections")
	}
	n, err := strconv.Atoi(os.Getenv(idleCountEnv))
	if err != nil || n <= 0 {
		t.Fatalf("invalid %s %q", idleCountEnv, os.Getenv(idleCountEnv))
	}
	raiseFileLimit(t, n+256)

	dialer := &websocket.Dialer{ReadBufferSize: 512, WriteBufferSize: 512, HandshakeTimeout: 30 * time.Second}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  []*websocket.Conn
		failed atomic.Int32
	)

	work := make(chan int)
	for range 32 {
		wg.Go(func() {
			for range work {
				ws, err := dialHello(base, dialer)
				if err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("idle client: %v", err)
					}
					continue
				}
				mu.Lock()
				conns = append(conns, ws)
				mu.Unlock()
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d idle clients failed to connect", failed.Load(), n)
	}
	fmt.Println("ready", len(conns))
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, ws := range conns {
		ws.Close()
	}
}

func TestShutdownClosesIdleConnection(t *testing.T) {
	srv, base := newLoadServer(t, web.Config{}, &loadEngine{deltas: 1, chunk: "ok"})
	idle := dialLoad(t, base, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with one idle connection: %v", err)
	}
	_ = idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := idle.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("read after shutdown: %v, want a close frame", err)
	}
	if ce.Code != websocket.CloseGoingAway {
		t.Errorf("close code = %d, want %d (going away)", ce.Code, websocket.CloseGoingAway)
	}
	if got := srv.Connections(); got != 0 {
		t.Errorf("open connections after shutdown = %d, want 0", got)
	}
}
