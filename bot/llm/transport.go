package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
)

// langchaingo v0.1.14 hides what went wrong on the wire. Its OpenAI client
// turns transport errors into plain strings and keeps the status code only
// in the message. Its Ollama client ignores read errors and a stream that
// ends without done:true. The observer transport records those facts for
// each attempt, so Stream classifies failures without parsing error text.

// attemptKey is the context key under which an *attempt is stored for the
// observer transport.
type attemptKey struct{}

// attempt records what the transport saw during one HTTP request. The body
// is read on a goroutine of langchaingo, so fields are guarded by mu.
type attempt struct {
	// isTerminal reports whether a complete response line is the stream's
	// terminal marker. It is set before the request and not changed.
	isTerminal func(line []byte) bool

	// mu guards the fields below.
	mu           sync.Mutex
	status       int
	retryAfter   string
	transportErr error
	readErr      error
	sawTerminal  bool
}

func (a *attempt) snapshot() (status int, retryAfter string, transportErr, readErr error, sawTerminal bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status, a.retryAfter, a.transportErr, a.readErr, a.sawTerminal
}

// observer is an http.RoundTripper that records the status, the
// Retry-After header, transport errors and the stream's end in the attempt
// stored in the request context. Requests without one pass through.
type observer struct {
	base http.RoundTripper
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	resp, err := o.base.RoundTrip(req)
	if a == nil {
		return resp, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.transportErr = err
		return resp, err
	}
	a.status = resp.StatusCode
	a.retryAfter = resp.Header.Get("Retry-After")
	resp.Body = &watchedBody{body: resp.Body, attempt: a}
	return resp, nil
}

// maxWatchedLine bounds the partial line a watchedBody keeps. A longer
// line is skipped, which is safe because terminal markers are short.
const maxWatchedLine = 64 << 10

// watchedBody passes a response body through while splitting it into lines
// to spot the terminal marker and recording the first read error.
type watchedBody struct {
	body    io.ReadCloser
	attempt *attempt

	// partial and skipping are used only by Read, which callers do not run
	// concurrently.
	partial  []byte
	skipping bool
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	w.scan(p[:n])
	if errors.Is(err, io.EOF) {
		w.line(w.partial)
		w.partial = w.partial[:0]
	} else if err != nil {
		w.attempt.mu.Lock()
		if w.attempt.readErr == nil {
			w.attempt.readErr = err
		}
		w.attempt.mu.Unlock()
	}
	return n, err
}

func (w *watchedBody) Close() error {
	return w.body.Close()
}

func (w *watchedBody) scan(data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			w.keep(data)
			return
		}
		w.keep(data[:i])
		if !w.skipping {
			w.line(w.partial)
		}
		w.partial = w.partial[:0]
		w.skipping = false
		data = data[i+1:]
	}
}

func (w *watchedBody) keep(data []byte) {
	if w.skipping {
		return
	}
	if len(w.partial)+len(data) > maxWatchedLine {
		w.skipping = true
		w.partial = w.partial[:0]
		return
	}
	w.partial = append(w.partial, data...)
}

func (w *watchedBody) line(l []byte) {
	l = bytes.TrimSpace(l)
	if len(l) == 0 || w.attempt.isTerminal == nil || !w.attempt.isTerminal(l) {
		return
	}
	w.attempt.mu.Lock()
	w.attempt.sawTerminal = true
	w.attempt.mu.Unlock()
}

// isOpenAITerminal reports whether line is the server-sent event
// "data: [DONE]" that ends an OpenAI chat completions stream.
func isOpenAITerminal(line []byte) bool {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	return ok && string(bytes.TrimSpace(data)) == "[DONE]"
}

// isOllamaTerminal reports whether line is the final /api/chat object,
// the one with "done": true.
func isOllamaTerminal(line []byte) bool {
	if !bytes.Contains(line, []byte(`"done"`)) {
		return false
	}
	var v struct {
		Done bool `json:"done"`
	}
	return json.Unmarshal(line, &v) == nil && v.Done
}

// observedClient returns a copy of c, or of a default client when c is nil,
// whose transport records each attempt.
func observedClient(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = &observer{base: base}
	return &cp
}

// withAttempt returns a context that carries a for the observer transport.
func withAttempt(ctx context.Context, a *attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}
