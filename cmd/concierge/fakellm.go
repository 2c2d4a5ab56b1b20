package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
)

// fakeLLMCommand serves a fake OpenAI-compatible model with a known
// first-token delay and token rate, so that a load run can subtract the
// model's share from the measured latency.
func fakeLLMCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fake-llm", stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "`host:port` to listen on")
	firstToken := fs.Duration("first-token", 0, "wait before the first chunk of every reply")
	tokensPerSecond := fs.Float64("tokens-per-second", 0, "chunks per second after the first; 0 sends them at once")
	reply := fs.String("reply", "", "reply `text`; empty echoes the last user message after \"echo: \"")
	chunkRunes := fs.Int("chunk-runes", 8, "runes per streamed chunk (one chunk counts as one token)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *firstToken < 0 || *tokensPerSecond < 0 || *chunkRunes <= 0 {
		fmt.Fprintln(stderr, "concierge fake-llm: -first-token and -tokens-per-second must be 0 or more, -chunk-runes at least 1")
		return errUsage
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; pick another address with -addr", *addr, err)
	}
	handler := llmtest.NewOpenAIHandler(llmtest.HandlerOptions{Model: "fake-llm", Reply: *reply,
		ChunkRunes: *chunkRunes, FirstTokenDelay: *firstToken, TokensPerSecond: *tokensPerSecond})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "fake OpenAI-compatible model on http://%s/v1 (first token %s, %g tokens/s)\n",
		ln.Addr(), *firstToken, *tokensPerSecond)

	select {
	case err := <-served:
		return fmt.Errorf("serve fake model: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop fake model: %w", err)
	}
	return nil
}
