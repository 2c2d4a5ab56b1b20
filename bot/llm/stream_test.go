package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/llm/llmtest"
)

// testTimeout bounds calls that are expected to succeed or fail fast. Tests
// that exercise the deadline set a shorter one.
const testTimeout = 5 * time.Second

func newProvider(t *testing.T, name, baseURL string, edit func(*llm.Config)) llm.Provider {
	t.Helper()
	cfg := llm.Config{
		Provider:     name,
		Model:        "test-model",
		BaseURL:      baseURL,
		Timeout:      testTimeout,
		RetryBackoff: 10 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := llm.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	if p == nil {
		t.Fatalf("New(%q) returned a nil provider", name)
	}
	return p
}

// fakeFor starts the fake server for provider name and returns it with the
// base URL the provider should use.
func fakeFor(t *testing.T, name string) (*llmtest.Server, string) {
	t.Helper()
	if name == llm.ProviderOllama {
		s := llmtest.NewOllama(t)
		return s, s.URL
	}
	s := llmtest.NewOpenAI(t)
	return s, s.URL + "/v1"
}

// streamAll runs p.Stream and returns the deltas it delivered.
func streamAll(t *testing.T, p llm.Provider, req llm.Request) ([]string, llm.Response, error) {
	t.Helper()
	var deltas []string
	resp, err := p.Stream(t.Context(), req, func(s string) error {
		deltas = append(deltas, s)
		return nil
	})
	return deltas, resp, err
}

var conversation = llm.Request{
	Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are a shop assistant."},
		{Role: llm.RoleUser, Content: "I need a mug"},
		{Role: llm.RoleAssistant, Content: "What size?"},
		{Role: llm.RoleUser, Content: "A large one"},
	},
	MaxTokens: 200,
}

var providers = []string{llm.ProviderOpenAI, llm.ProviderOllama}

func TestStreamDeliversChunksAndUsage(t *testing.T) {
	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			s, url := fakeFor(t, name)
			s.Script(llmtest.Reply{
				Chunks: []string{"Here is ", "a large ", "mug ", "for you."},
				Usage:  &llmtest.Usage{PromptTokens: 31, CompletionTokens: 7},
			})
			p := newProvider(t, name, url, nil)

			deltas, resp, err := streamAll(t, p, conversation)
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want := "Here is a large mug for you."
			if got := strings.Join(deltas, ""); got != want {
				t.Errorf("joined deltas = %q, want %q", got, want)
			}
			if len(deltas) != 4 {
				t.Errorf("got %d deltas %q, want 4", len(deltas), deltas)
			}
			if resp.Text != want {
				t.Errorf("Response.Text = %q, want %q", resp.Text, want)
			}
			if resp.TokensIn != 31 {
				t.Errorf("TokensIn = %d, want 31 as reported", resp.TokensIn)
			}
			if resp.TokensOut != 7 {
				t.Errorf("TokensOut = %d, want 7 as reported", resp.TokensOut)
			}
			if resp.Provider != name || resp.Model != "test-model" {
				t.Errorf("Provider, Model = %q, %q, want %q, test-model", resp.Provider, resp.Model, name)
			}
			if resp.FirstToken <= 0 {
				t.Errorf("FirstToken = %v, want > 0", resp.FirstToken)
			}
		})
	}
}

func TestStreamSendsMessagesInOrder(t *testing.T) {
	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			s, url := fakeFor(t, name)
			p := newProvider(t, name, url, func(c *llm.Config) { c.APIKey = "sk-test" })
			if _, _, err := streamAll(t, p, conversation); err != nil {
				t.Fatalf("Stream: %v", err)
			}

			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.Model != "test-model" {
				t.Errorf("model = %q, want test-model", got.Model)
			}
			if !got.Stream {
				t.Error("request did not ask for a stream")
			}
			if got.MaxTokens != 200 {
				t.Errorf("max tokens = %d, want 200", got.MaxTokens)
			}
			if len(got.Messages) != len(conversation.Messages) {
				t.Fatalf("got %d messages %+v, want %d", len(got.Messages), got.Messages, len(conversation.Messages))
			}
			for i, m := range conversation.Messages {
				if got.Messages[i].Role != m.Role || got.Messages[i].Content != m.Content {
					t.Errorf("message %d = %+v, want %+v", i, got.Messages[i], m)
				}
			}
			if name == llm.ProviderOpenAI {
				if auth := got.Header.Get("Authorization"); auth != "Bearer sk-test" {
					t.Errorf("Authorization = %q, want the configured key", auth)
				}
				if got.Path != "/v1/chat/completions" {
					t.Errorf("path = %q, want /v1/chat/completions", got.Path)
				}
				if !got.IncludeUsage {
					t.Error("OpenAI request did not set stream_options.include_usage")
				}
			}
		})
	}
}

func TestStreamEstimatesMissingUsage(t *testing.T) {
	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			s, url := fakeFor(t, name)
			s.Script(llmtest.Reply{Chunks: []string{"你好，", "欢迎光临"}, Usage: &llmtest.Usage{}})
			p := newProvider(t, name, url, nil)

			_, resp, err := streamAll(t, p, conversation)
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if want := llm.EstimateTokens("你好，欢迎光临"); resp.TokensOut != want {
				t.Errorf("TokensOut = %d, want the estimate %d", resp.TokensOut, want)
			}
			if resp.TokensIn <= 0 {
				t.Errorf("TokensIn = %d, want an estimate above zero", resp.TokensIn)
			}
		})
	}
}

func TestStreamToleratesEmptyChoicesChunk(t *testing.T) {
	s, url := fakeFor(t, llm.ProviderOpenAI)
	s.Script(llmtest.Reply{EmptyChoicesChunk: true, Chunks: []string{"still ", "fine"}})
	p := newProvider(t, llm.ProviderOpenAI, url, nil)

	_, resp, err := streamAll(t, p, conversation)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if resp.Text != "still fine" {
		t.Errorf("Text = %q, want %q", resp.Text, "still fine")
	}
}

func TestStreamFailures(t *testing.T) {
	tests := []struct {
		name      string
		providers []string
		replies   []llmtest.Reply
		timeout   time.Duration
		want      error
		reason    string
		requests  int  // requests the server must see
		deltas    int  // deltas delivered before the failure
		upstream  bool // the server must see the request context end
	}{
		{
			name:     "rate_limited_past_deadline",
			replies:  []llmtest.Reply{{Status: 429, RetryAfter: "120", ErrorMessage: "Rate limit reached"}},
			want:     llm.ErrRateLimited,
			reason:   "rate_limited",
			requests: 1,
		},
		{
			name:     "server_error_retried_once",
			replies:  []llmtest.Reply{{Status: 500}, {Status: 503}},
			want:     llm.ErrUnavailable,
			reason:   "unavailable",
			requests: 2,
		},
		{
			name:     "bad_request_not_retried",
			replies:  []llmtest.Reply{{Status: 400, ErrorMessage: "unknown model"}},
			want:     llm.ErrUnavailable,
			reason:   "unavailable",
			requests: 1,
		},
		{
			name:     "cut_mid_reply_not_retried",
			replies:  []llmtest.Reply{{Chunks: []string{"one ", "two ", "three"}, CutAfter: 2}},
			want:     llm.ErrStreamCut,
			reason:   "stream_cut",
			requests: 1,
			deltas:   2,
		},
		{
			name:     "ended_without_terminal_marker",
			replies:  []llmtest.Reply{{Chunks: []string{"one ", "two"}, OmitDone: true}},
			want:     llm.ErrStreamCut,
			reason:   "stream_cut",
			requests: 1,
			deltas:   2,
		},
		{
			name:      "only_empty_choices",
			providers: []string{llm.ProviderOpenAI},
			replies:   []llmtest.Reply{{Chunks: []string{}, EmptyChoicesChunk: true}},
			want:      llm.ErrEmptyReply,
			reason:    "empty",
			requests:  1,
		},
		{
			name:     "empty_reply",
			replies:  []llmtest.Reply{{Chunks: []string{}}},
			want:     llm.ErrEmptyReply,
			reason:   "empty",
			requests: 1,
		},
		{
			name:     "stall_after_first_chunk",
			replies:  []llmtest.Reply{{Chunks: []string{"thinking"}, Stall: true}},
			timeout:  300 * time.Millisecond,
			want:     llm.ErrTimeout,
			reason:   "timeout",
			requests: 1,
			deltas:   1,
			upstream: true,
		},
		{
			name:     "no_first_token_before_deadline",
			replies:  []llmtest.Reply{{Chunks: []string{"late"}, FirstTokenDelay: time.Minute}},
			timeout:  300 * time.Millisecond,
			want:     llm.ErrTimeout,
			reason:   "timeout",
			requests: 1,
			upstream: true,
		},
	}
	for _, tt := range tests {
		names := tt.providers
		if names == nil {
			names = providers
		}
		for _, name := range names {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				s, url := fakeFor(t, name)
				s.Script(tt.replies...)
				p := newProvider(t, name, url, func(c *llm.Config) {
					if tt.timeout > 0 {
						c.Timeout = tt.timeout
					}
				})

				deltas, _, err := streamAll(t, p, conversation)
				if !errors.Is(err, tt.want) {
					t.Fatalf("Stream error = %v, want one wrapping %v", err, tt.want)
				}
				if got := llm.Classify(err); got != tt.reason {
					t.Errorf("Classify(%v) = %q, want %q", err, got, tt.reason)
				}
				if got := len(s.Requests()); got != tt.requests {
					t.Errorf("server saw %d requests, want %d", got, tt.requests)
				}
				if len(deltas) != tt.deltas {
					t.Errorf("delivered %d deltas %q, want %d", len(deltas), deltas, tt.deltas)
				}
				if !tt.upstream {
					return
				}
				select {
				case <-s.Canceled():
				case <-time.After(testTimeout):
					t.Error("server did not see the request context end at the deadline")
				}
			})
		}
	}
}

func TestStreamConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()

	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			p := newProvider(t, name, "http://"+addr, func(c *llm.Config) {
				c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			})
			_, _, err := streamAll(t, p, conversation)
			if !errors.Is(err, llm.ErrUnavailable) {
				t.Fatalf("Stream error = %v, want one wrapping ErrUnavailable", err)
			}
			if got := llm.Classify(err); got != "unavailable" {
				t.Errorf("Classify = %q, want unavailable", got)
			}
			if n := strings.Count(logs.String(), `"msg":"llm retry"`); n != 1 {
				t.Errorf("logged %d retries, want 1: %s", n, logs.String())
			}
		})
	}
}

func TestStreamRetries(t *testing.T) {
	tests := []struct {
		name     string
		first    llmtest.Reply
		wantWait int64 // wait_ms logged for the retry
	}{
		{name: "rate_limited_with_retry_after", first: llmtest.Reply{Status: 429, RetryAfter: "1"}, wantWait: 1000},
		{name: "server_error", first: llmtest.Reply{Status: 502}, wantWait: 10},
	}
	for _, tt := range tests {
		for _, name := range providers {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				s, url := fakeFor(t, name)
				s.Script(tt.first, llmtest.Reply{Chunks: []string{"second ", "time"}})
				var logs bytes.Buffer
				p := newProvider(t, name, url, func(c *llm.Config) {
					c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
				})

				_, resp, err := streamAll(t, p, conversation)
				if err != nil {
					t.Fatalf("Stream: %v", err)
				}
				if resp.Text != "second time" {
					t.Errorf("Text = %q, want %q", resp.Text, "second time")
				}
				if got := len(s.Requests()); got != 2 {
					t.Errorf("server saw %d requests, want 2", got)
				}
				var entry struct {
					Msg    string `json:"msg"`
					WaitMS int64  `json:"wait_ms"`
				}
				if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
					t.Fatalf("decode retry log %q: %v", logs.String(), err)
				}
				if entry.Msg != "llm retry" || entry.WaitMS != tt.wantWait {
					t.Errorf("retry log = %+v, want msg %q with wait_ms %d", entry, "llm retry", tt.wantWait)
				}
			})
		}
	}
}

func TestStreamConcurrentCallsKeepOwnReplies(t *testing.T) {
	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			_, url := fakeFor(t, name)
			p := newProvider(t, name, url, nil)

			const calls = 8
			errs := make(chan error, calls)
			for i := range calls {
				go func() {
					msg := fmt.Sprintf("question number %d", i)
					req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: msg}}}
					resp, err := p.Stream(t.Context(), req, func(string) error { return nil })
					switch {
					case err != nil:
						errs <- fmt.Errorf("call %d: %w", i, err)
					case resp.Text != "echo: "+msg:
						errs <- fmt.Errorf("call %d got %q, want the echo of %q", i, resp.Text, msg)
					default:
						errs <- nil
					}
				}()
			}
			for range calls {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestStreamCancelStopsUpstream(t *testing.T) {
	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			s, url := fakeFor(t, name)
			s.Script(llmtest.Reply{Chunks: []string{"first"}, Stall: true})
			p := newProvider(t, name, url, nil)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			_, err := p.Stream(ctx, conversation, func(string) error {
				cancel() // the client closed its tab after the first chunk
				return nil
			})
			if got := llm.Classify(err); got != "canceled" {
				t.Errorf("Classify(%v) = %q, want canceled", err, got)
			}
			select {
			case <-s.Canceled():
			case <-time.After(testTimeout):
				t.Fatal("server did not see the request context end")
			}
			if got := len(s.Requests()); got != 1 {
				t.Errorf("server saw %d requests, want 1 (no retry after cancel)", got)
			}
		})
	}
}

func TestStreamStopsOnDeltaError(t *testing.T) {
	errStop := errors.New("client gone")
	for _, name := range providers {
		t.Run(name, func(t *testing.T) {
			s, url := fakeFor(t, name)
			s.Script(llmtest.Reply{Chunks: []string{"a", "b", "c"}})
			p := newProvider(t, name, url, nil)

			calls := 0
			_, err := p.Stream(t.Context(), conversation, func(string) error {
				calls++
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("Stream error = %v, want one wrapping %v", err, errStop)
			}
			if calls != 1 {
				t.Errorf("onDelta called %d times, want 1", calls)
			}
			if got := llm.Classify(err); got != "error" {
				t.Errorf("Classify = %q, want error", got)
			}
		})
	}
}

func TestStreamRejectsUnknownRole(t *testing.T) {
	s, url := fakeFor(t, llm.ProviderOpenAI)
	p := newProvider(t, llm.ProviderOpenAI, url, nil)
	req := llm.Request{Messages: []llm.Message{{Role: "tool", Content: "x"}}}

	_, _, err := streamAll(t, p, req)
	if err == nil || !strings.Contains(err.Error(), `"tool"`) {
		t.Fatalf("Stream error = %v, want one naming the role", err)
	}
	if got := len(s.Requests()); got != 0 {
		t.Errorf("server saw %d requests, want 0", got)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     llm.Config
		wantNil bool
		wantErr string
	}{
		{name: "empty_is_offline", cfg: llm.Config{}, wantNil: true},
		{name: "offline", cfg: llm.Config{Provider: "offline"}, wantNil: true},
		{name: "unknown", cfg: llm.Config{Provider: "claude"}, wantNil: true, wantErr: `"claude"`},
		{name: "bad_url", cfg: llm.Config{Provider: "ollama", BaseURL: "localhost:11434"}, wantNil: true, wantErr: "localhost:11434"},
		{name: "openai_defaults", cfg: llm.Config{Provider: "openai"}},
		{name: "ollama_defaults", cfg: llm.Config{Provider: "ollama"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := llm.New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("New error = %v, want one containing %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Errorf("New: %v", err)
			}
			if (p == nil) != tt.wantNil {
				t.Errorf("New returned provider %v, want nil=%v", p, tt.wantNil)
			}
		})
	}
}

func TestNewDefaultModels(t *testing.T) {
	tests := []struct {
		provider string
		want     string
	}{
		{provider: "openai", want: llm.DefaultOpenAIModel},
		{provider: "ollama", want: llm.DefaultOllamaModel},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p, err := llm.New(llm.Config{Provider: tt.provider})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if p.Name() != tt.provider || p.Model() != tt.want {
				t.Errorf("Name, Model = %q, %q, want %q, %q", p.Name(), p.Model(), tt.provider, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: ""},
		{name: "timeout", err: llm.ErrTimeout, want: "timeout"},
		{name: "deadline", err: context.DeadlineExceeded, want: "timeout"},
		{name: "rate_limited", err: llm.ErrRateLimited, want: "rate_limited"},
		{name: "unavailable", err: llm.ErrUnavailable, want: "unavailable"},
		{name: "stream_cut", err: llm.ErrStreamCut, want: "stream_cut"},
		{name: "empty", err: llm.ErrEmptyReply, want: "empty"},
		{name: "canceled", err: context.Canceled, want: "canceled"},
		{name: "other", err: errors.New("boom"), want: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrapped := tt.err
			if wrapped != nil {
				wrapped = errors.Join(errors.New("context"), tt.err)
			}
			if got := llm.Classify(wrapped); got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", wrapped, got, tt.want)
			}
		})
	}
}
