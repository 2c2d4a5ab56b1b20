package llm

import (
	"context"
	"errors"
)

// Errors returned by Provider.Stream. Each failed call wraps exactly one of
// them, or context.Canceled when the caller's context was canceled, or the
// error returned by onDelta.
var (
	// ErrUnavailable means the provider could not be reached or returned an
	// error status: connection refused or reset, DNS failure, or any HTTP
	// status of 400 or above other than 429. Only 5xx statuses and
	// connection failures are retried.
	ErrUnavailable = errors.New("llm provider unavailable")
	// ErrRateLimited means the provider returned status 429 and the retries,
	// if any, did not succeed before the deadline.
	ErrRateLimited = errors.New("llm provider rate limited")
	// ErrTimeout means the call's deadline (Config.Timeout or the caller's
	// context deadline) passed before the reply finished, including a
	// stream that stalled.
	ErrTimeout = errors.New("llm call timed out")
	// ErrStreamCut means the stream ended before its terminal marker
	// (data: [DONE] for OpenAI, done:true for Ollama) or the connection
	// broke mid-reply. Deltas already sent to onDelta stay delivered.
	ErrStreamCut = errors.New("llm stream cut")
	// ErrEmptyReply means the stream finished normally but carried no text.
	ErrEmptyReply = errors.New("llm reply empty")
)

// Classify returns a short reason for err, for records and metric labels:
// "timeout", "rate_limited", "unavailable", "stream_cut", "empty",
// "canceled", or "error" for anything else. It returns "" for a nil error.
func Classify(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrStreamCut):
		return "stream_cut"
	case errors.Is(err, ErrEmptyReply):
		return "empty"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "error"
	}
}
