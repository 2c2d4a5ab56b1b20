package llm

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// Provider names accepted by Config.Provider and returned by Provider.Name.
const (
	ProviderOffline = "offline"
	ProviderOpenAI  = "openai"
	ProviderOllama  = "ollama"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultOpenAIModel   = "gpt-4o-mini"
	DefaultOllamaModel   = "llama3.2"
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	DefaultOllamaBaseURL = "http://127.0.0.1:11434"
	DefaultTimeout       = 60 * time.Second
	DefaultMaxRetries    = 1
	DefaultRetryBackoff  = 250 * time.Millisecond
)

// Config selects and configures a model provider.
type Config struct {
	// Provider is "offline", "openai" or "ollama". Empty means "offline".
	Provider string
	// Model is the model name. Empty means DefaultOpenAIModel or
	// DefaultOllamaModel.
	Model string
	// BaseURL is the API root: for OpenAI-compatible servers the URL that
	// "/chat/completions" is appended to (usually ending in /v1), for Ollama
	// the server URL. Empty means DefaultOpenAIBaseURL or
	// DefaultOllamaBaseURL.
	BaseURL string
	// APIKey is the bearer token for OpenAI-compatible servers. It may be
	// empty for local servers that need none.
	APIKey string
	// Timeout bounds one Stream call, from the request through the last
	// chunk and across retries. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a call is retried after a 429, a 5xx
	// status or a connection failure, and only while no delta has been
	// delivered. Zero means DefaultMaxRetries; a negative value disables
	// retries.
	MaxRetries int
	// RetryBackoff is the wait before a retry when the server gave no
	// Retry-After. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// HTTPClient sends the requests. Nil means a client over
	// http.DefaultTransport. New copies it and wraps its transport.
	HTTPClient *http.Client
	// Logger receives retry warnings. Nil means discard.
	Logger *slog.Logger
}

// New returns the provider that cfg selects. For "offline" or an empty
// Provider it returns a nil Provider and a nil error: the caller then uses
// Offline. An unknown provider or an invalid BaseURL is an error.
func New(cfg Config) (Provider, error) {
	switch cfg.Provider {
	case "", ProviderOffline:
		return nil, nil
	case ProviderOpenAI:
		return newOpenAI(withDefaults(cfg, DefaultOpenAIModel, DefaultOpenAIBaseURL))
	case ProviderOllama:
		return newOllama(withDefaults(cfg, DefaultOllamaModel, DefaultOllamaBaseURL))
	default:
		return nil, fmt.Errorf("new llm provider: unknown provider %q: use offline, openai or ollama", cfg.Provider)
	}
}

func withDefaults(cfg Config, model, baseURL string) Config {
	if cfg.Model == "" {
		cfg.Model = model
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = baseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// checkBaseURL rejects a base URL that is not absolute http or https.
// langchaingo's ollama.WithServerURL (v0.1.14) calls log.Fatal on a parse
// error, so the URL must be checked before it is handed over.
func checkBaseURL(provider, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("new %s provider: parse base URL %q: %w", provider, raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("new %s provider: invalid base URL %q: want http:// or https:// with a host", provider, raw)
	}
	return nil
}

// placeholderAPIKey is sent when Config.APIKey is empty, because
// langchaingo's OpenAI client (v0.1.14) refuses to start without a token.
// Local OpenAI-compatible servers ignore it.
const placeholderAPIKey = "no-key"

func newOpenAI(cfg Config) (Provider, error) {
	if err := checkBaseURL(ProviderOpenAI, cfg.BaseURL); err != nil {
		return nil, err
	}
	key := cfg.APIKey
	if key == "" {
		key = placeholderAPIKey
	}
	// Every option is given explicitly because langchaingo otherwise reads
	// OPENAI_* environment variables itself.
	model, err := openai.New(
		openai.WithToken(key),
		openai.WithModel(cfg.Model),
		openai.WithBaseURL(cfg.BaseURL),
		openai.WithHTTPClient(observedClient(cfg.HTTPClient)),
	)
	if err != nil {
		return nil, fmt.Errorf("new openai provider: %w", err)
	}
	return newStreamer(ProviderOpenAI, cfg, model, isOpenAITerminal), nil
}

func newOllama(cfg Config) (Provider, error) {
	if err := checkBaseURL(ProviderOllama, cfg.BaseURL); err != nil {
		return nil, err
	}
	model, err := ollama.New(
		ollama.WithServerURL(cfg.BaseURL),
		ollama.WithModel(cfg.Model),
		ollama.WithHTTPClient(observedClient(cfg.HTTPClient)),
	)
	if err != nil {
		return nil, fmt.Errorf("new ollama provider: %w", err)
	}
	return newStreamer(ProviderOllama, cfg, model, isOllamaTerminal), nil
}

// toMessageContent maps messages to langchaingo's form, rejecting unknown
// roles.
func toMessageContent(msgs []Message) ([]llms.MessageContent, error) {
	out := make([]llms.MessageContent, 0, len(msgs))
	for i, m := range msgs {
		var role llms.ChatMessageType
		switch m.Role {
		case RoleSystem:
			role = llms.ChatMessageTypeSystem
		case RoleUser:
			role = llms.ChatMessageTypeHuman
		case RoleAssistant:
			role = llms.ChatMessageTypeAI
		default:
			return nil, fmt.Errorf("map message %d: unknown role %q: use system, user or assistant", i, m.Role)
		}
		out = append(out, llms.TextParts(role, m.Content))
	}
	return out, nil
}
