package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
)

// loadConfig raises the per-user, per-address and connection limits so
// that many test clients on one loopback address are not rate limited.
const loadConfig = `
log:
  level: warn
web:
  messages_per_minute: 100000
  messages_per_minute_per_ip: 1000000
  max_conns_per_ip: 100000
`

// serverProcess is a concierge binary serving on a loopback port, with
// its output kept for failure messages.
type serverProcess struct {
	bin, addr, data, config string
	env                     []string
	cmd                     *exec.Cmd
	out                     *processOutput
}

// processOutput is a bytes.Buffer safe for the process's two output streams.
type processOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *processOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *processOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newServerProcess builds the binary and prepares a data directory, a
// config file and an environment that points the server at the fake model
// at llmURL.
func newServerProcess(t *testing.T, llmURL string) *serverProcess {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "concierge")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(config, []byte(loadConfig), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"CONCIERGE_LLM_PROVIDER=openai", "OPENAI_BASE_URL=" + llmURL + "/v1", "OPENAI_API_KEY=test"}
	return &serverProcess{bin: bin, addr: freeLoopbackAddr(t), data: filepath.Join(dir, "data"),
		config: config, env: env}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free loopback port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs serve and waits until /readyz returns 200.
func (p *serverProcess) start(t *testing.T) {
	t.Helper()
	p.out = &processOutput{}
	p.cmd = exec.Command(p.bin, "serve", "-addr", p.addr, "-data", p.data, "-config", p.config)
	p.cmd.Env = p.env
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	cmd := p.cmd
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on %s not ready after 60s (last error %v); output:\n%s", p.addr, err, p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and returns the exit code once the process has ended.
func (p *serverProcess) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v to server: %v", sig, err)
	}
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("wait for server: %v", err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *serverProcess) wsURL() string { return "ws://" + p.addr + "/ws" }

// wireFrame is the union of the server frame fields these tests read.
type wireFrame struct {
	Type      string        `json:"type"`
	VisitorID string        `json:"visitor_id"`
	InReplyTo string        `json:"in_reply_to"`
	UserSeq   uint64        `json:"user_seq"`
	Seq       uint64        `json:"seq"`
	Text      string        `json:"text"`
	Code      string        `json:"code"`
	History   []wireHistory `json:"history"`
}

type wireHistory struct {
	Seq  uint64 `json:"seq"`
	Role string `json:"role"`
	Text string `json:"text"`
}

// helloWS dials url and exchanges hello for ready.
func helloWS(url, visitorID string) (*websocket.Conn, wireFrame, error) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, wireFrame{}, fmt.Errorf("dial %s: %w", url, err)
	}
	hello := map[string]any{"type": "hello", "protocol": 1, "locale": "en-US", "timezone": "UTC",
		"visitor_id": visitorID, "resume_after": 0}
	if err := ws.WriteJSON(hello); err != nil {
		ws.Close()
		return nil, wireFrame{}, fmt.Errorf("send hello: %w", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	var ready wireFrame
	if err := ws.ReadJSON(&ready); err != nil {
		ws.Close()
		return nil, wireFrame{}, fmt.Errorf("read ready: %w", err)
	}
	if ready.Type != "ready" {
		ws.Close()
		return nil, wireFrame{}, fmt.Errorf("first frame after hello is %s %s, want ready", ready.Type, ready.Code)
	}
	return ws, ready, nil
}

// crashClient is one conversation of the crash test and what the server
// acknowledged to it before the crash.
type crashClient struct {
	index     int
	visitorID string
	started   map[uint64]string // user_seq from reply.start -> text sent
	acked     []wireFrame       // reply.end frames received
	err       error             // why the conversation stopped, if early
}

// converse sends turns messages, each after the reply.end of the one
// before, and calls onAck after each reply.end. It stops at the first
// broken connection, which the crash causes.
func (c *crashClient) converse(url string, turns int, onAck func()) {
	ws, ready, err := helloWS(url, "")
	if err != nil {
		c.err = err
		return
	}
	defer ws.Close()
	c.visitorID = ready.VisitorID
	c.started = map[uint64]string{}
	for turn := range turns {
		id := fmt.Sprintf("c%d-m%d", c.index, turn)
		text := fmt.Sprintf("client %d message %d: a gift for my mother", c.index, turn)
		if err := ws.WriteJSON(map[string]string{"type": "message", "id": id, "text": text}); err != nil {
			c.err = err
			return
		}
		if err := c.awaitReply(ws, id, text); err != nil {
			c.err = err
			return
		}
		onAck()
	}
}

func (c *crashClient) awaitReply(ws *websocket.Conn, id, text string) error {
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f wireFrame
		if err := ws.ReadJSON(&f); err != nil {
			return err
		}
		switch {
		case f.Type == "reply.start" && f.InReplyTo == id:
			c.started[f.UserSeq] = text
		case f.Type == "reply.end" && f.InReplyTo == id:
			c.acked = append(c.acked, f)
			return nil
		case f.Type == "error":
			return fmt.Errorf("error frame %s in reply to %s", f.Code, id)
		}
	}
}

// checkHistory compares the history after the restart with what the
// server acknowledged before the crash.
func (c *crashClient) checkHistory(t *testing.T, history []wireHistory) {
	t.Helper()
	bySeq := map[uint64]wireHistory{}
	for i, h := range history {
		if h.Seq != uint64(i+1) {
			t.Errorf("client %d: history[%d].seq = %d, want %d (seqs must run 1, 2, 3 ... without gaps or repeats)",
				c.index, i, h.Seq, i+1)
		}
		bySeq[h.Seq] = h
	}
	for _, end := range c.acked {
		h, ok := bySeq[end.Seq]
		if !ok {
			t.Errorf("client %d: acknowledged reply seq %d is missing after the restart", c.index, end.Seq)
			continue
		}
		if h.Role != "assistant" || h.Text != end.Text {
			t.Errorf("client %d: history seq %d = %s %q, want assistant %q", c.index, end.Seq, h.Role, h.Text, end.Text)
		}
	}
	for seq, text := range c.started {
		h, ok := bySeq[seq]
		if !ok {
			t.Errorf("client %d: user message seq %d got reply.start but is missing after the restart", c.index, seq)
			continue
		}
		if h.Role != "user" || h.Text != text {
			t.Errorf("client %d: history seq %d = %s %q, want user %q", c.index, seq, h.Role, h.Text, text)
		}
	}
}

func TestCrashKeepsAcknowledgedReplies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it twice; skipped with -short")
	}
	// 8 chunks a reply at 200 chunks/s keep about 40ms of every turn
	// streaming, so the kill lands in the middle of many turns.
	model := httptest.NewServer(llmtest.NewOpenAIHandler(llmtest.HandlerOptions{TokensPerSecond: 200}))
	t.Cleanup(model.Close)
	proc := newServerProcess(t, model.URL)
	proc.start(t)

	const clients, turns, killAfter = 50, 8, 120
	var acks atomic.Int32
	killNow := make(chan struct{})
	var killOnce sync.Once
	onAck := func() {
		if acks.Add(1) == killAfter {
			killOnce.Do(func() { close(killNow) })
		}
	}
	conversations := make([]*crashClient, clients)
	var wg sync.WaitGroup
	for i := range conversations {
		c := &crashClient{index: i}
		conversations[i] = c
		wg.Go(func() { c.converse(proc.wsURL(), turns, onAck) })
	}
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	select {
	case <-killNow:
	case <-allDone:
		t.Fatalf("every conversation finished (%d replies) before the kill; raise turns", acks.Load())
	}
	proc.stop(t, syscall.SIGKILL)
	<-allDone
	inFlight := 0
	for _, c := range conversations {
		inFlight += len(c.started) - len(c.acked)
	}
	t.Logf("killed the server after %d acknowledged replies, with %d turns past reply.start and not ended",
		acks.Load(), inFlight)

	proc.start(t)
	checked := 0
	for _, c := range conversations {
		if c.visitorID == "" {
			t.Errorf("client %d never got ready: %v", c.index, c.err)
			continue
		}
		ws, ready, err := helloWS(proc.wsURL(), c.visitorID)
		if err != nil {
			t.Fatalf("client %d after the restart: %v", c.index, err)
		}
		ws.Close()
		c.checkHistory(t, ready.History)
		checked += len(c.acked)
	}
	if checked < killAfter {
		t.Errorf("checked %d acknowledged replies, want at least %d", checked, killAfter)
	}

	if code := proc.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("server exit code after SIGTERM = %d, want 0; output:\n%s", code, proc.out)
	}
	store, err := memory.Open(filepath.Join(proc.data, storeFile), memory.Options{})
	if err != nil {
		t.Fatalf("open the store after the crash: %v", err)
	}
	defer store.Close()
	if err := store.Check(); err != nil {
		t.Errorf("bbolt consistency check after the crash: %v", err)
	}
}

func TestSIGTERMFinishesStreamingTurn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it; skipped with -short")
	}
	// About 6 chunks at 10 chunks/s: the reply streams for 0.6s.
	model := httptest.NewServer(llmtest.NewOpenAIHandler(llmtest.HandlerOptions{TokensPerSecond: 10}))
	t.Cleanup(model.Close)
	proc := newServerProcess(t, model.URL)
	proc.start(t)

	ws, _, err := helloWS(proc.wsURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]string{"type": "message", "id": "m1", "text": "a teapot for my mother please"}); err != nil {
		t.Fatalf("send message: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	var frames []string
	signalled := false
	for {
		var f wireFrame
		err := ws.ReadJSON(&f)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != websocket.CloseGoingAway {
				t.Errorf("close code = %d, want %d (going away)", ce.Code, websocket.CloseGoingAway)
			}
			break
		}
		if err != nil {
			t.Fatalf("read after %v: %v", frames, err)
		}
		frames = append(frames, f.Type)
		if f.Type == "reply.delta" && !signalled {
			if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatalf("send SIGTERM: %v", err)
			}
			signalled = true
		}
	}
	if !signalled {
		t.Fatalf("no reply.delta before the close; frames %v", frames)
	}
	if last := frames[len(frames)-1]; last != "reply.end" {
		t.Errorf("last frame before the close = %s, want reply.end; frames %v", last, frames)
	}
	if err := proc.cmd.Wait(); err != nil {
		t.Errorf("server exit after SIGTERM: %v; output:\n%s", err, proc.out)
	}
}

// inProcessServer runs the whole application (openApp) in the test
// process against the fake model, so a test can script the model and read
// the server's metrics. The catalog is not loaded, so replies carry no
// products.
func inProcessServer(t *testing.T, model *llmtest.Server, configure func(*configs.Config)) *httptest.Server {
	t.Helper()
	return startInProcess(t, model.URL, false, configure)
}

// startInProcess is inProcessServer for a model at any URL, optionally
// with the demo catalog loaded before it returns.
func startInProcess(tb testing.TB, modelURL string, withCatalog bool, configure func(*configs.Config)) *httptest.Server {
	tb.Helper()
	dir := tb.TempDir()
	config := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(config, []byte(loadConfig), 0o600); err != nil {
		tb.Fatalf("write config: %v", err)
	}
	env := []string{"CONCIERGE_LLM_PROVIDER=openai", "OPENAI_BASE_URL=" + modelURL + "/v1",
		"OPENAI_API_KEY=test"}
	cfg, _, err := configs.Load(config, env)
	if err != nil {
		tb.Fatalf("load config: %v", err)
	}
	cfg.Server.DataDir = filepath.Join(dir, "data")
	if configure != nil {
		configure(&cfg)
	}
	log, err := newLogger(cfg.Log, &processOutput{})
	if err != nil {
		tb.Fatalf("new logger: %v", err)
	}
	app, err := openApp(context.Background(), cfg, log)
	if err != nil {
		tb.Fatalf("open app: %v", err)
	}
	if withCatalog {
		app.loadCatalog(context.Background(), cfg)
		if !app.catalog.Ready() {
			tb.Fatal("the demo catalog did not load")
		}
	}
	ts := httptest.NewServer(app.web.Handler())
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.web.Shutdown(ctx); err != nil {
			tb.Errorf("shut down web server: %v", err)
		}
		ts.Close()
		if err := app.Close(); err != nil {
			tb.Errorf("close app: %v", err)
		}
	})
	return ts
}

func TestClientCloseCancelsModelCall(t *testing.T) {
	model := llmtest.NewOpenAI(t)
	model.Script(llmtest.Reply{Chunks: []string{"Let me look "}, Stall: true})
	ts := inProcessServer(t, model, nil)
	ws, _, err := helloWS("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteJSON(map[string]string{"type": "message", "id": "m1", "text": "a teapot please"}); err != nil {
		t.Fatalf("send message: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f wireFrame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("read until the first delta: %v", err)
		}
		if f.Type == "reply.delta" {
			break
		}
	}
	ws.Close()
	select {
	case <-model.Canceled():
	case <-time.After(10 * time.Second):
		t.Fatal("the model request was not cancelled within 10s of the client closing")
	}
}

// metricFamilies returns the /metrics page.
func metricFamilies(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatalf("get /metrics: %v", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return buf.String()
}

func TestMetricsAfterEachAction(t *testing.T) {
	model := llmtest.NewOpenAI(t)
	ts := inProcessServer(t, model, func(cfg *configs.Config) { cfg.Web.MessagesPerMinute = 6 })
	ws, _, err := helloWS("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got := metricFamilies(t, ts); !strings.Contains(got, "concierge_connections 1") {
		t.Errorf("after hello: concierge_connections 1 missing from /metrics")
	}
	if got := metricFamilies(t, ts); strings.Contains(got, "concierge_turns_total{") {
		t.Errorf("before any message: concierge_turns_total already has samples")
	}

	// Turns with a model reply, until one shows an offer.
	var offerID string
	for i := 0; i < 4 && offerID == ""; i++ {
		end := sendAndRead(t, ws, fmt.Sprintf("m%d", i), "a gift for my mother under 100")
		offerID = end.offerID
	}
	after := metricFamilies(t, ts)
	for _, want := range []string{
		`concierge_turns_total{outcome="answered"}`,
		`concierge_turn_duration_seconds_count`,
		`concierge_turn_first_token_seconds_count`,
		`concierge_llm_replies_total{provider="openai"}`,
		`concierge_stage_duration_seconds_count{stage="detect"}`,
		`concierge_stage_duration_seconds_count{stage="retrieval"}`,
		`concierge_stage_duration_seconds_count{stage="store"}`,
	} {
		if !strings.Contains(after, want) {
			t.Errorf("after answered turns: %s missing from /metrics", want)
		}
	}
	if offerID == "" {
		t.Errorf("no offer in 4 replies to a new visitor; cannot check concierge_offer_impressions_total")
	} else if want := `concierge_offer_impressions_total{offer="` + offerID + `"}`; !strings.Contains(after, want) {
		t.Errorf("after a reply with offer %s: %s missing from /metrics", offerID, want)
	}

	// A provider failure, after which the offline responder writes the reply.
	model.Script(llmtest.Reply{Status: http.StatusBadRequest, ErrorMessage: "bad request"})
	sendAndRead(t, ws, "m-fallback", "a teapot please")
	if got := metricFamilies(t, ts); !strings.Contains(got, "concierge_llm_fallbacks_total{reason=") {
		t.Errorf("after a model failure: concierge_llm_fallbacks_total missing from /metrics")
	}

	// An offer click event.
	if err := ws.WriteJSON(map[string]string{"type": "event", "name": "offer_click", "offer_id": "welcome10"}); err != nil {
		t.Fatalf("send event: %v", err)
	}
	readUntil(t, ws, "event.ack")
	if got := metricFamilies(t, ts); !strings.Contains(got, `concierge_events_total{name="offer_click"} 1`) {
		t.Errorf("after an offer_click event: concierge_events_total{name=\"offer_click\"} 1 missing from /metrics")
	}

	// The per-user limit is 6 messages a minute; at most 5 were sent above.
	limited := false
	for i := 0; i < 6 && !limited; i++ {
		if err := ws.WriteJSON(map[string]string{"type": "message", "id": fmt.Sprintf("r%d", i), "text": "hi"}); err != nil {
			t.Fatalf("send message: %v", err)
		}
		f := readUntil(t, ws, "reply.end", "error")
		limited = f.Type == "error" && f.Code == "rate_limited"
	}
	if !limited {
		t.Fatalf("no rate_limited error after 6 more messages with a limit of 6 a minute")
	}
	if got := metricFamilies(t, ts); !strings.Contains(got, `concierge_rate_limited_total{scope="user"} 1`) {
		t.Errorf("after a rejected message: concierge_rate_limited_total{scope=\"user\"} 1 missing from /metrics")
	}
}

type replyEndSummary struct {
	offerID string
}

// sendAndRead sends a message and returns a summary of its reply.end.
func sendAndRead(t *testing.T, ws *websocket.Conn, id, text string) replyEndSummary {
	t.Helper()
	if err := ws.WriteJSON(map[string]string{"type": "message", "id": id, "text": text}); err != nil {
		t.Fatalf("send message %s: %v", id, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f struct {
			wireFrame
			Offer *struct {
				ID string `json:"id"`
			} `json:"offer"`
		}
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("read reply to %s: %v", id, err)
		}
		switch f.Type {
		case "reply.end":
			if f.Offer == nil {
				return replyEndSummary{}
			}
			return replyEndSummary{offerID: f.Offer.ID}
		case "error":
			t.Fatalf("error frame %s in reply to %s", f.Code, id)
		}
	}
}

// readUntil reads frames until one of the given types and returns it.
func readUntil(t *testing.T, ws *websocket.Conn, types ...string) wireFrame {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f wireFrame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("read until %v: %v", types, err)
		}
		for _, typ := range types {
			if f.Type == typ {
				return f
			}
		}
	}
}
