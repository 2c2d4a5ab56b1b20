package llm

import (
	"context"
	"time"
)

// Message roles in a Request.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one chat message sent to a model.
type Message struct {
	Role    string
	Content string
}

// Request is one generation request.
type Request struct {
	Messages    []Message
	MaxTokens   int     // zero means the provider's default
	Temperature float64 // zero means the provider's default
}

// Response describes a finished generation.
type Response struct {
	Text       string
	Provider   string // openai, ollama or offline
	Model      string
	TokensIn   int // as the provider reported them, else estimated
	TokensOut  int
	FirstToken time.Duration // from the call to the first delta
}

// Provider streams replies from a model. Implementations are safe for
// concurrent use.
type Provider interface {
	Name() string
	Model() string
	// Stream sends each text chunk to onDelta as it arrives, on the calling
	// goroutine, and returns the whole reply. An error from onDelta stops the
	// stream and is returned. Cancelling ctx stops the upstream request.
	Stream(ctx context.Context, req Request, onDelta func(string) error) (Response, error)
}
