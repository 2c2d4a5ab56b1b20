package llmtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Reply is the scripted response of a fake server to one request. Replies are queued
// with Server.Script and used in order, one per chat request.
type Reply struct {
	// Chunks are the content deltas, sent one per stream event. Nil means
	// the default reply of the handler.
	Chunks []string
	// FirstTokenDelay is the wait before the first chunk.
	FirstTokenDelay time.Duration
	// Delay is the wait between chunks.
	Delay time.Duration
	// Status, when non-zero and not 200, makes the server respond with this
	// HTTP status and an error body instead of a stream.
	Status int
	// ErrorMessage is the message in the error body; empty means the status
	// text.
	ErrorMessage string
	// RetryAfter is sent as the Retry-After header with an error status.
	RetryAfter string
	// CutAfter, when positive, aborts the connection after this many chunks
	// so the client reads an unexpected EOF.
	CutAfter int
	// EmptyChoicesChunk sends one OpenAI chunk with an empty choices array and
	// no usage before the chunks. Ignored by the Ollama handler.
	EmptyChoicesChunk bool
	// Stall holds the response open after the chunks, without the terminal
	// marker, until the client cancels or the server closes.
	Stall bool
	// OmitDone ends the response normally after the chunks but without the
	// terminal marker (data: [DONE] or the done:true object).
	OmitDone bool
	// Usage holds the token counts to report. Nil means counts derived from
	// the text: words of the prompt and one token per chunk.
	Usage *Usage
	// Raw, when non-empty, is written as the whole response body with status
	// 200, split into two writes at RawSplit, for malformed-input tests.
	Raw      string
	RawSplit int
}

// Usage is the token count a fake server reports.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Message is one chat message as the fake server decoded it.
type Message struct {
	Role    string
	Content string
}

// Request is one chat request as the fake server decoded it.
type Request struct {
	Path         string
	Model        string
	Messages     []Message
	Stream       bool
	IncludeUsage bool // OpenAI stream_options.include_usage
	MaxTokens    int  // max_completion_tokens, max_tokens or options.num_predict
	Temperature  float64
	Header       http.Header
}

// HandlerOptions sets the default behaviour of a fake handler for requests
// that no Reply was scripted for.
type HandlerOptions struct {
	// Model is the model name written into responses; empty means the
	// model of the request.
	Model string
	// Reply is the text of the default reply. Empty means an echo of the
	// last user message, prefixed with "echo: ".
	Reply string
	// ChunkRunes is the size of the default reply's chunks in runes; zero
	// means 8.
	ChunkRunes int
	// FirstTokenDelay is the wait before the first chunk of the default
	// reply.
	FirstTokenDelay time.Duration
	// TokensPerSecond paces the default reply, one chunk per token; zero
	// means no pacing.
	TokensPerSecond float64
	// EmbeddingDim is the length of the vectors the embedding endpoints
	// return; zero means 16.
	EmbeddingDim int
}

// fake is the state shared by the OpenAI and Ollama handlers: the script
// queue, the request log and the cancellation signal.
type fake struct {
	opts HandlerOptions

	// closing is closed when the owning Server shuts down, to release
	// stalled and delayed handlers.
	closing   chan struct{}
	closeOnce sync.Once
	canceled  chan struct{}

	// mu guards script and requests.
	mu       sync.Mutex
	script   []Reply
	requests []Request
}

func newFake(opts HandlerOptions) *fake {
	if opts.ChunkRunes <= 0 {
		opts.ChunkRunes = 8
	}
	if opts.EmbeddingDim <= 0 {
		opts.EmbeddingDim = 16
	}
	return &fake{
		opts:     opts,
		closing:  make(chan struct{}),
		canceled: make(chan struct{}, 64),
	}
}

func (f *fake) enqueue(replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, replies...)
}

// next records req and returns the scripted reply for it, or the default
// reply when the queue is empty.
func (f *fake) next(req Request) Reply {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	if len(f.script) > 0 {
		r := f.script[0]
		f.script = f.script[1:]
		f.mu.Unlock()
		if r.Chunks == nil && r.Raw == "" && r.Status == 0 {
			r.Chunks = f.defaultChunks(req)
		}
		return r
	}
	f.mu.Unlock()
	return f.defaultReply(req)
}

func (f *fake) recorded() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	copy(out, f.requests)
	return out
}

func (f *fake) close() {
	f.closeOnce.Do(func() { close(f.closing) })
}

func (f *fake) defaultReply(req Request) Reply {
	r := Reply{Chunks: f.defaultChunks(req), FirstTokenDelay: f.opts.FirstTokenDelay}
	if f.opts.TokensPerSecond > 0 {
		r.Delay = time.Duration(float64(time.Second) / f.opts.TokensPerSecond)
	}
	return r
}

func (f *fake) defaultChunks(req Request) []string {
	text := f.opts.Reply
	if text == "" {
		last := ""
		for _, m := range req.Messages {
			if m.Role == "user" {
				last = m.Content
			}
		}
		text = "echo: " + last
	}
	return SplitRunes(text, f.opts.ChunkRunes)
}

// wait blocks for d, returning false when the request ended or the server
// is closing first.
func (f *fake) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		f.signalCanceled()
		return false
	case <-f.closing:
		return false
	}
}

// hold blocks until the request ends or the server closes.
func (f *fake) hold(ctx context.Context) {
	select {
	case <-ctx.Done():
		f.signalCanceled()
	case <-f.closing:
	}
}

func (f *fake) signalCanceled() {
	select {
	case f.canceled <- struct{}{}:
	default:
	}
}

// model returns the model name to write into a response.
func (f *fake) model(req Request) string {
	if f.opts.Model != "" {
		return f.opts.Model
	}
	return req.Model
}

// usage returns the scripted usage or one derived from the request and the
// chunks.
func usage(r Reply, req Request) Usage {
	if r.Usage != nil {
		return *r.Usage
	}
	u := Usage{CompletionTokens: len(r.Chunks)}
	for _, m := range req.Messages {
		u.PromptTokens += len(strings.Fields(m.Content))
	}
	return u
}

// writeRaw writes r.Raw in two parts split at r.RawSplit, flushing between
// them, so the client sees the split as a chunk boundary.
func writeRaw(w http.ResponseWriter, r Reply, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	split := min(max(r.RawSplit, 0), len(r.Raw))
	_, _ = io.WriteString(w, r.Raw[:split])
	flush(w)
	_, _ = io.WriteString(w, r.Raw[split:])
	flush(w)
}

func flush(w http.ResponseWriter) {
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
}

// abort drops the connection without finishing the response. net/http
// recovers this panic value silently.
func abort() {
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// embed returns a deterministic vector for text, so equal texts
// get equal vectors.
func embed(text string, dim int) []float32 {
	v := make([]float32, dim)
	var h uint32 = 2166136261
	for i := 0; i < len(text); i++ {
		h ^= uint32(text[i])
		h *= 16777619
		v[int(h%uint32(dim))] += 1
	}
	if len(text) == 0 {
		v[0] = 1
	}
	return v
}

// SplitRunes splits s into chunks of at most n runes, never inside a rune.
func SplitRunes(s string, n int) []string {
	if n <= 0 {
		n = 1
	}
	var chunks []string
	for len(s) > 0 {
		i, count := 0, 0
		for i < len(s) && count < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			count++
		}
		chunks = append(chunks, s[:i])
		s = s[i:]
	}
	return chunks
}
