package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
)

func TestBenchAgainstServer(t *testing.T) {
	model := llmtest.NewOpenAI(t)
	ts := inProcessServer(t, model, nil)
	cfg := benchConfig{URL: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", Conns: 5, Turns: 3,
		Text: defaultBenchText, Timeout: 30 * time.Second}
	res := runBench(t.Context(), cfg)
	if res.OK != 15 {
		t.Errorf("answered = %d, want 15; failures %v", res.OK, res.Failures)
	}
	if len(res.Failures) != 0 {
		t.Errorf("failures = %v, want none", res.Failures)
	}
	if len(res.Latency) != 15 {
		t.Errorf("latency samples = %d, want 15", len(res.Latency))
	}
	if len(res.FirstOut) != 15 {
		t.Errorf("first-delta samples = %d, want 15", len(res.FirstOut))
	}
	if got := len(model.Requests()); got != 15 {
		t.Errorf("model requests = %d, want 15", got)
	}
	var out bytes.Buffer
	printBench(&out, res)
	if !strings.Contains(out.String(), "summary: ok=15 failed=0 ") {
		t.Errorf("output has no summary line for 15 answered turns:\n%s", out.String())
	}
}

// scriptedWS upgrades /ws, replies to hello with ready and hands every later
// frame to onMessage.
func scriptedWS(t *testing.T, onMessage func(ws *websocket.Conn, id string)) string {
	t.Helper()
	upgrader := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			var f struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type == "hello" {
				if err := ws.WriteJSON(map[string]string{"type": "ready"}); err != nil {
					return
				}
				continue
			}
			onMessage(ws, f.ID)
		}
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

func TestBenchCountsFailures(t *testing.T) {
	closedURL := func(t *testing.T) string {
		ts := httptest.NewServer(http.NotFoundHandler())
		url := "ws" + strings.TrimPrefix(ts.URL, "http")
		ts.Close()
		return url
	}
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		timeout time.Duration
		want    map[string]int
	}{
		{
			name: "error_frame",
			url: func(t *testing.T) string {
				return scriptedWS(t, func(ws *websocket.Conn, id string) {
					_ = ws.WriteJSON(map[string]string{"type": "error", "code": "rate_limited", "in_reply_to": id})
				})
			},
			want: map[string]int{"error:rate_limited": 6},
		},
		{
			name: "policy_close",
			url: func(t *testing.T) string {
				return scriptedWS(t, func(ws *websocket.Conn, id string) {
					msg := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "send queue full")
					_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				})
			},
			want: map[string]int{"close:1008": 2},
		},
		{
			name: "no_reply",
			url: func(t *testing.T) string {
				return scriptedWS(t, func(ws *websocket.Conn, id string) {})
			},
			timeout: 100 * time.Millisecond,
			want:    map[string]int{"timeout": 2},
		},
		{
			name: "nothing_listening",
			url:  closedURL,
			want: map[string]int{"dial": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			cfg := benchConfig{URL: tt.url(t), Conns: 2, Turns: 3, Text: "hi", Timeout: timeout}
			res := runBench(t.Context(), cfg)
			if res.OK != 0 {
				t.Errorf("answered = %d, want 0", res.OK)
			}
			if got, want := formatFailures(res.Failures), formatFailures(tt.want); got != want {
				t.Errorf("failures = %s, want %s", got, want)
			}
		})
	}
}

func TestBenchCommandRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"http_scheme", []string{"-url", "http://127.0.0.1:1/ws"}, "scheme must be ws or wss"},
		{"zero_conns", []string{"-conns", "0"}, "invalid -conns 0"},
		{"zero_turns", []string{"-turns", "0"}, "invalid -turns 0"},
		{"negative_rate", []string{"-rate", "-1"}, "invalid -rate -1"},
		{"blank_text", []string{"-text", "  "}, "invalid -text"},
		{"zero_timeout", []string{"-timeout", "0s"}, "invalid -timeout 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := benchCommand(t.Context(), tt.args, &stdout, &stderr)
			if !errors.Is(err, errUsage) {
				t.Errorf("error = %v, want errUsage", err)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestPercentileNearestRank(t *testing.T) {
	ms := func(values ...int) []time.Duration {
		out := make([]time.Duration, len(values))
		for i, v := range values {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single", ms(7), 0.99, 7 * time.Millisecond},
		{"median_of_four", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99_of_hundred", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p90_of_hundred", ms(hundred...), 0.9, 90 * time.Millisecond},
		{"max", ms(1, 5, 9), 1, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("percentile(%v, %g) = %s, want %s", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestFormatFailuresSorted(t *testing.T) {
	got := formatFailures(map[string]int{"timeout": 2, "close:1008": 1, "dial": 3})
	if want := "close:1008=1 dial=3 timeout=2"; got != want {
		t.Errorf("formatFailures = %q, want %q", got, want)
	}
	if got := formatFailures(nil); got != "none" {
		t.Errorf("formatFailures(nil) = %q, want none", got)
	}
}

// benchTurns is the number of messages per conversation in BenchmarkServeTurns.
const benchTurns = 10

// BenchmarkServeTurns runs concierge bench against the whole application
// in this process, with the demo catalog and an instant fake model, and
// reports turns per second and latency percentiles. Client and server
// share the CPUs.
func BenchmarkServeTurns(b *testing.B) {
	model := httptest.NewServer(llmtest.NewOpenAIHandler(llmtest.HandlerOptions{}))
	b.Cleanup(model.Close)
	ts := startInProcess(b, model.URL, true, nil)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	for _, conns := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			cfg := benchConfig{URL: url, Conns: conns, Turns: benchTurns, Text: defaultBenchText, Timeout: time.Minute}
			var turns int
			var elapsed time.Duration
			var all []time.Duration
			for b.Loop() {
				res := runBench(b.Context(), cfg)
				if res.failed() > 0 {
					b.Fatalf("failures: %s", formatFailures(res.Failures))
				}
				turns += res.OK
				elapsed += res.Elapsed
				all = append(all, res.Latency...)
			}
			slices.Sort(all)
			b.ReportMetric(float64(turns)/elapsed.Seconds(), "turns/s")
			b.ReportMetric(float64(percentile(all, .5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(all, .99).Microseconds())/1000, "p99-ms")
		})
	}
}
