package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"
)

// streamer is the Provider for every langchaingo model. langchaingo
// v0.1.14 does not retry chat requests in either the OpenAI or the Ollama
// client, and net/http does not replay a POST, so the retries here are the
// only ones.
type streamer struct {
	name       string
	model      string
	llm        llms.Model
	isTerminal func(line []byte) bool
	cfg        Config
	now        func() time.Time
}

func newStreamer(name string, cfg Config, model llms.Model, isTerminal func([]byte) bool) *streamer {
	return &streamer{
		name:       name,
		model:      cfg.Model,
		llm:        model,
		isTerminal: isTerminal,
		cfg:        cfg,
		now:        time.Now,
	}
}

func (s *streamer) Name() string  { return s.name }
func (s *streamer) Model() string { return s.model }

// outcome is the result of one attempt.
type outcome struct {
	resp      Response
	err       error
	retryable bool
	wait      time.Duration // server-requested wait before a retry, zero if none
}

// Stream implements Provider. It retries a failed attempt only when no
// delta reached onDelta, and only for 429, 5xx and connection failures.
func (s *streamer) Stream(ctx context.Context, req Request, onDelta func(string) error) (Response, error) {
	msgs, err := toMessageContent(req.Messages)
	if err != nil {
		return Response{}, fmt.Errorf("%s stream: %w", s.name, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	start := s.now()
	st := &callProgress{start: start, now: s.now, onDelta: onDelta}
	for try := 0; ; try++ {
		out := s.attempt(ctx, callCtx, msgs, req, st)
		if out.err == nil {
			out.resp.TokensIn, out.resp.TokensOut = s.usage(out.resp, req)
			return out.resp, nil
		}
		if !out.retryable || st.delivered || try >= s.cfg.MaxRetries {
			return Response{}, out.err
		}

		wait := s.cfg.RetryBackoff
		if out.wait > 0 {
			wait = out.wait
		}
		if deadline, ok := callCtx.Deadline(); ok && s.now().Add(wait).After(deadline) {
			// The wait would outlast the call, so fail now rather than at
			// the deadline.
			return Response{}, out.err
		}
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "llm retry",
			slog.String("provider", s.name), slog.String("model", s.model),
			slog.Int("attempt", try+1), slog.Int64("wait_ms", wait.Milliseconds()),
			slog.String("reason", Classify(out.err)), slog.Any("error", out.err))
		if err := sleep(callCtx, wait); err != nil {
			return Response{}, s.contextError(ctx, callCtx)
		}
	}
}

// callProgress tracks deltas across the attempts of one call.
type callProgress struct {
	start      time.Time
	now        func() time.Time
	onDelta    func(string) error
	delivered  bool
	firstToken time.Duration
}

func (s *streamer) attempt(ctx, callCtx context.Context, msgs []llms.MessageContent, req Request, st *callProgress) outcome {
	a := &attempt{isTerminal: s.isTerminal}
	var text strings.Builder
	var deltaErr error
	onChunk := func(_ context.Context, chunk []byte) error {
		if len(chunk) == 0 {
			return nil
		}
		if !st.delivered {
			st.delivered = true
			st.firstToken = st.now().Sub(st.start)
		}
		text.Write(chunk)
		if err := st.onDelta(string(chunk)); err != nil {
			deltaErr = err
			return err
		}
		return nil
	}

	opts := []llms.CallOption{llms.WithStreamingFunc(onChunk)}
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
	}
	// NOTE: langchaingo v0.1.14 always sends "temperature" to OpenAI-compatible
	// servers (except reasoning models), so a zero Request.Temperature is sent
	// as 0 there rather than left to the server's default.
	if req.Temperature > 0 {
		opts = append(opts, llms.WithTemperature(req.Temperature))
	}
	cr, genErr := s.llm.GenerateContent(withAttempt(callCtx, a), msgs, opts...)

	if deltaErr != nil {
		return outcome{err: fmt.Errorf("%s stream: deliver delta: %w", s.name, deltaErr)}
	}
	// A stream that reached its terminal marker counts even if the deadline
	// passed just after it.
	out, failed := s.checkWire(a, genErr)
	if failed && (ctx.Err() != nil || callCtx.Err() != nil) {
		return outcome{err: s.contextError(ctx, callCtx)}
	}
	if failed {
		return out
	}
	if text.Len() == 0 {
		return outcome{err: fmt.Errorf("%s stream: %w", s.name, ErrEmptyReply)}
	}

	resp := Response{
		Text:       text.String(),
		Provider:   s.name,
		Model:      s.model,
		FirstToken: st.firstToken,
	}
	if cr != nil && len(cr.Choices) > 0 {
		resp.TokensIn = intInfo(cr.Choices[0].GenerationInfo, "PromptTokens")
		resp.TokensOut = intInfo(cr.Choices[0].GenerationInfo, "CompletionTokens")
	}
	return outcome{resp: resp}
}

// checkWire maps what the observer transport saw, and the error
// langchaingo returned, to an outcome. It reports failed=false when the
// stream completed with its terminal marker.
func (s *streamer) checkWire(a *attempt, genErr error) (outcome, bool) {
	status, retryAfter, transportErr, readErr, sawTerminal := a.snapshot()
	switch {
	case transportErr != nil:
		return outcome{
			err:       fmt.Errorf("%s stream: send request: %w: %v", s.name, ErrUnavailable, transportErr),
			retryable: true,
		}, true
	case status == http.StatusTooManyRequests:
		return outcome{
			err:       fmt.Errorf("%s stream: status 429: %w", s.name, ErrRateLimited),
			retryable: true,
			wait:      parseRetryAfter(retryAfter, s.now()),
		}, true
	case status >= 400:
		return outcome{
			err:       fmt.Errorf("%s stream: status %d: %w", s.name, status, ErrUnavailable),
			retryable: status >= 500,
		}, true
	case status == 0 && genErr != nil:
		// No HTTP exchange happened, so langchaingo failed before sending.
		return outcome{err: fmt.Errorf("%s stream: %w: %v", s.name, ErrUnavailable, genErr)}, true
	case readErr != nil || !sawTerminal:
		cause := readErr
		if cause == nil {
			cause = genErr
		}
		if cause == nil {
			cause = errors.New("no terminal marker")
		}
		return outcome{err: fmt.Errorf("%s stream: %w: %v", s.name, ErrStreamCut, cause)}, true
	case genErr != nil:
		return outcome{err: fmt.Errorf("%s stream: %w: %v", s.name, ErrUnavailable, genErr)}, true
	}
	return outcome{}, false
}

// contextError returns the error for a call whose context ended: the
// caller's cancellation, or ErrTimeout for either deadline.
func (s *streamer) contextError(ctx, callCtx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s stream: %w", s.name, context.Canceled)
	}
	return fmt.Errorf("%s stream: %w", s.name, ErrTimeout)
}

// usage returns the token counts of resp, estimating any the provider did
// not report.
func (s *streamer) usage(resp Response, req Request) (in, out int) {
	in, out = resp.TokensIn, resp.TokensOut
	if in <= 0 {
		in = estimatePromptTokens(req.Messages)
	}
	if out <= 0 {
		out = EstimateTokens(resp.Text)
	}
	return in, out
}

func intInfo(info map[string]any, key string) int {
	switch v := info[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
// It returns zero for an empty, invalid or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleep waits for d or until ctx ends, returning ctx.Err() in that case.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
