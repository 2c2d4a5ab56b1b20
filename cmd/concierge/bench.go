package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// benchConfig is the parsed command line of concierge bench.
type benchConfig struct {
	URL     string
	Conns   int           // concurrent conversations
	Turns   int           // messages per conversation
	Rate    float64       // messages per second over all conversations; 0 means no pacing
	Text    string        // message text
	Timeout time.Duration // wait for one reply.end, and for dial plus hello
}

// benchResult contains the figures of one bench run.
type benchResult struct {
	Conns    int
	Turns    int
	Connect  time.Duration // from the first dial until every conversation got ready or failed
	Elapsed  time.Duration // from the first message until the last conversation finished
	OK       int
	Latency  []time.Duration // message sent to reply.end, per answered turn, sorted
	FirstOut []time.Duration // message sent to the first reply.delta, sorted
	Failures map[string]int  // by kind: dial, hello:<code>, timeout, error:<code>, close:<code>, read
}

// benchFrame is the subset of server frame fields the load tool reads.
type benchFrame struct {
	Type      string `json:"type"`
	InReplyTo string `json:"in_reply_to"`
	Code      string `json:"code"`
}

const defaultBenchText = "do you have waterproof boots under 150?"

func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	cfg := benchConfig{}
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:8080/ws", "WebSocket `URL` of the server's /ws endpoint")
	fs.IntVar(&cfg.Conns, "conns", 10, "number of concurrent conversations, each a new visitor")
	fs.IntVar(&cfg.Turns, "turns", 5, "messages each conversation sends, one after the reply.end of the last")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per second over all conversations; 0 sends as fast as replies come")
	fs.StringVar(&cfg.Text, "text", defaultBenchText, "message `text` to send")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "wait for one reply, and for dial plus hello, before counting a timeout")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "concierge bench: %v\n", err)
		return errUsage
	}
	res := runBench(ctx, cfg)
	printBench(stdout, res)
	if res.OK == 0 {
		return errors.New("bench: no turn got a reply.end; see the failures above")
	}
	return nil
}

func (c benchConfig) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("invalid -url %q: %w", c.URL, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("invalid -url %q: the scheme must be ws or wss", c.URL)
	}
	switch {
	case c.Conns <= 0:
		return fmt.Errorf("invalid -conns %d: must be at least 1", c.Conns)
	case c.Turns <= 0:
		return fmt.Errorf("invalid -turns %d: must be at least 1", c.Turns)
	case c.Rate < 0:
		return fmt.Errorf("invalid -rate %g: must be 0 or more", c.Rate)
	case strings.TrimSpace(c.Text) == "":
		return errors.New("invalid -text: must not be empty")
	case c.Timeout <= 0:
		return fmt.Errorf("invalid -timeout %s: must be positive", c.Timeout)
	}
	return nil
}

// benchClient is one conversation of a bench run. Each runs on its own
// goroutine and merges its figures into the run at the end.
type benchClient struct {
	cfg      benchConfig
	index    int
	ws       *websocket.Conn
	ok       int
	latency  []time.Duration
	firstOut []time.Duration
	failures map[string]int
}

// runBench dials every conversation, waits until all have their ready
// frame, then lets them send their messages at once and collects the
// figures. It returns early, with what it has, when ctx ends.
func runBench(ctx context.Context, cfg benchConfig) benchResult {
	clients := make([]*benchClient, cfg.Conns)
	var connected, finished sync.WaitGroup
	start := make(chan struct{})
	pace := newPacer(ctx, cfg.Rate)
	defer pace.stop()

	dialStart := time.Now()
	for i := range clients {
		c := &benchClient{cfg: cfg, index: i, failures: map[string]int{}}
		clients[i] = c
		connected.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			ready := c.connect(ctx)
			connected.Done()
			if !ready {
				return
			}
			defer c.ws.Close()
			<-start
			c.converse(ctx, pace)
		}()
	}
	connected.Wait()
	connect := time.Since(dialStart)
	runStart := time.Now()
	close(start)
	finished.Wait()

	res := benchResult{Conns: cfg.Conns, Turns: cfg.Turns, Connect: connect,
		Elapsed: time.Since(runStart), Failures: map[string]int{}}
	for _, c := range clients {
		res.OK += c.ok
		res.Latency = append(res.Latency, c.latency...)
		res.FirstOut = append(res.FirstOut, c.firstOut...)
		for kind, n := range c.failures {
			res.Failures[kind] += n
		}
	}
	slices.Sort(res.Latency)
	slices.Sort(res.FirstOut)
	return res
}

// connect dials the server and exchanges hello for ready.
func (c *benchClient) connect(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	dialer := websocket.Dialer{HandshakeTimeout: c.cfg.Timeout, ReadBufferSize: 1024, WriteBufferSize: 1024}
	ws, resp, err := dialer.DialContext(ctx, c.cfg.URL, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		c.failures["dial"]++
		return false
	}
	c.ws = ws
	hello := map[string]any{"type": "hello", "protocol": 1, "locale": "en-US",
		"timezone": "UTC", "device": "desktop", "page": map[string]any{"kind": "home"}}
	if err := ws.WriteJSON(hello); err != nil {
		c.fail(err)
		ws.Close()
		return false
	}
	_ = ws.SetReadDeadline(time.Now().Add(c.cfg.Timeout))
	for {
		var f benchFrame
		if err := ws.ReadJSON(&f); err != nil {
			c.fail(err)
			ws.Close()
			return false
		}
		switch f.Type {
		case "ready":
			return true
		case "error":
			c.failures["hello:"+f.Code]++
			ws.Close()
			return false
		}
	}
}

// converse sends the conversation's messages one at a time, each after
// the reply.end of the one before, and stops at the first broken
// connection.
func (c *benchClient) converse(ctx context.Context, pace *pacer) {
	for turn := range c.cfg.Turns {
		if !pace.wait(ctx) {
			return
		}
		if !c.turn(fmt.Sprintf("b%d-%d", c.index, turn)) {
			return
		}
	}
}

// turn sends one message and reads frames until its reply.end or error.
// It returns false when the connection is no longer usable.
func (c *benchClient) turn(id string) bool {
	sent := time.Now()
	msg := map[string]string{"type": "message", "id": id, "text": c.cfg.Text}
	if err := c.ws.WriteJSON(msg); err != nil {
		c.fail(err)
		return false
	}
	_ = c.ws.SetReadDeadline(sent.Add(c.cfg.Timeout))
	gotDelta := false
	for {
		var f benchFrame
		if err := c.ws.ReadJSON(&f); err != nil {
			c.fail(err)
			return false
		}
		switch {
		case f.Type == "reply.delta" && !gotDelta:
			gotDelta = true
			c.firstOut = append(c.firstOut, time.Since(sent))
		case f.Type == "reply.end" && f.InReplyTo == id:
			c.latency = append(c.latency, time.Since(sent))
			c.ok++
			return true
		case f.Type == "error" && f.InReplyTo == id:
			c.failures["error:"+f.Code]++
			return true
		}
	}
}

// fail counts a read or write error by kind.
func (c *benchClient) fail(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		c.failures[fmt.Sprintf("close:%d", ce.Code)]++
	case errors.As(err, &ne) && ne.Timeout():
		c.failures["timeout"]++
	default:
		c.failures["read"]++
	}
}

// pacer spaces messages over all conversations to a fixed rate. A nil
// ticker means no pacing.
type pacer struct {
	ticker *time.Ticker
}

func newPacer(ctx context.Context, rate float64) *pacer {
	if rate <= 0 {
		return &pacer{}
	}
	return &pacer{ticker: time.NewTicker(time.Duration(float64(time.Second) / rate))}
}

func (p *pacer) wait(ctx context.Context) bool {
	if p.ticker == nil {
		return ctx.Err() == nil
	}
	select {
	case <-p.ticker.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *pacer) stop() {
	if p.ticker != nil {
		p.ticker.Stop()
	}
}

// percentile returns the q-quantile (0 to 1) of sorted durations by the
// nearest-rank method, or 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func (r benchResult) throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

func (r benchResult) failed() int {
	n := 0
	for _, v := range r.Failures {
		n += v
	}
	return n
}

func printBench(w io.Writer, r benchResult) {
	fmt.Fprintf(w, "conversations   %d x %d turns, connected in %s\n", r.Conns, r.Turns, roundDuration(r.Connect))
	fmt.Fprintf(w, "answered        %d of %d turns in %s\n", r.OK, r.Conns*r.Turns, roundDuration(r.Elapsed))
	fmt.Fprintf(w, "throughput      %.1f turns/s\n", r.throughput())
	fmt.Fprintf(w, "turn latency    p50 %s  p90 %s  p99 %s  max %s\n",
		roundDuration(percentile(r.Latency, .5)), roundDuration(percentile(r.Latency, .9)),
		roundDuration(percentile(r.Latency, .99)), roundDuration(percentile(r.Latency, 1)))
	fmt.Fprintf(w, "first delta     p50 %s  p99 %s  (%d turns streamed)\n",
		roundDuration(percentile(r.FirstOut, .5)), roundDuration(percentile(r.FirstOut, .99)), len(r.FirstOut))
	fmt.Fprintf(w, "failures        %s\n", formatFailures(r.Failures))
	fmt.Fprintf(w, "summary: ok=%d failed=%d turns_per_s=%.1f p50=%s p99=%s first_delta_p50=%s\n",
		r.OK, r.failed(), r.throughput(), roundDuration(percentile(r.Latency, .5)),
		roundDuration(percentile(r.Latency, .99)), roundDuration(percentile(r.FirstOut, .5)))
}

func formatFailures(failures map[string]int) string {
	if len(failures) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(failures))
	for _, kind := range slices.Sorted(maps.Keys(failures)) {
		parts = append(parts, fmt.Sprintf("%s=%d", kind, failures[kind]))
	}
	return strings.Join(parts, " ")
}

// roundDuration rounds d for display: to 1 ms from 1 s up, to 10 µs from
// 1 ms up, and to 1 µs below.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
