package main

import (
	"cmp"
	"fmt"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/retrieval"
)

// newEmbedder returns nil for the built-in local embedder, or a langchaingo
// embedder on the configured OpenAI-compatible or Ollama server. Its name
// carries the provider and model, so the index re-embeds the catalog when
// either changes.
func newEmbedder(cfg configs.Config) (retrieval.Embedder, error) {
	switch cfg.Retrieval.Embedder {
	case "openai":
		model := cmp.Or(cfg.Retrieval.EmbedModel, "text-embedding-3-small")
		opts := []openai.Option{openai.WithEmbeddingModel(model), openai.WithToken(cmp.Or(cfg.LLM.APIKey, "no-key"))}
		if cfg.LLM.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(cfg.LLM.BaseURL))
		}
		client, err := openai.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("openai embedder: %w", err)
		}
		emb, err := embeddings.NewEmbedder(client)
		if err != nil {
			return nil, fmt.Errorf("openai embedder: %w", err)
		}
		return retrieval.NewLangchainEmbedder(emb, "openai:"+model), nil
	case "ollama":
		model := cmp.Or(cfg.Retrieval.EmbedModel, "nomic-embed-text")
		opts := []ollama.Option{ollama.WithModel(model)}
		if cfg.LLM.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(cfg.LLM.BaseURL))
		}
		client, err := ollama.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("ollama embedder: %w", err)
		}
		emb, err := embeddings.NewEmbedder(client)
		if err != nil {
			return nil, fmt.Errorf("ollama embedder: %w", err)
		}
		return retrieval.NewLangchainEmbedder(emb, "ollama:"+model), nil
	default:
		return nil, nil
	}
}
