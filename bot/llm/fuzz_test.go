package llm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/llm/llmtest"
)

// FuzzStreamParse feeds arbitrary response bytes, written in two parts
// split at a fuzzer-chosen offset, through langchaingo's real clients and
// the provider. The call must not panic, must return, and must give either
// text that equals the delivered deltas or an error with a known reason.
func FuzzStreamParse(f *testing.F) {
	seeds := []struct {
		ollama bool
		body   string
	}{
		{false, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n"},
		{false, "data: {\"choices\":[{\"delta\":{\"content\":\"cut\"}}]}\n\n"},
		{false, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n"},
		{false, "data: {not json\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\ndata:[DONE]"},
		{false, ": keep-alive\nevent: message\nretry: 10\ndata: {\"choices\":[{\"delta\":{\"content\":\"多语言\"}}],\"usage\":{\"prompt_tokens\":3}}\n\ndata: [DONE]"},
		{false, "data: [DONE]\n\n"},
		{true, "{\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n{\"done\":true,\"eval_count\":1}\n"},
		{true, "{\"message\":{\"content\":\"half\"},\"done\":false}\n{\"mess"},
		{true, "{\"error\":\"model not found\"}\n"},
		{true, "not json at all\n"},
	}
	for _, s := range seeds {
		f.Add(s.ollama, []byte(s.body), uint16(len(s.body)/2))
	}

	openAI := llmtest.NewOpenAI(f)
	ollama := llmtest.NewOllama(f)
	cfg := func(name, url string) llm.Config {
		return llm.Config{Provider: name, Model: "fuzz", BaseURL: url, Timeout: 2 * time.Second, MaxRetries: -1}
	}
	openAIProvider, err := llm.New(cfg(llm.ProviderOpenAI, openAI.URL))
	if err != nil {
		f.Fatalf("New openai: %v", err)
	}
	ollamaProvider, err := llm.New(cfg(llm.ProviderOllama, ollama.URL))
	if err != nil {
		f.Fatalf("New ollama: %v", err)
	}

	known := map[string]bool{"timeout": true, "unavailable": true, "stream_cut": true, "empty": true}
	f.Fuzz(func(t *testing.T, useOllama bool, body []byte, split uint16) {
		if len(body) == 0 {
			t.Skip("an empty body selects the default reply")
		}
		server, provider := openAI, openAIProvider
		if useOllama {
			server, provider = ollama, ollamaProvider
		}
		server.Script(llmtest.Reply{Raw: string(body), RawSplit: int(split)})

		var deltas strings.Builder
		resp, err := provider.Stream(context.Background(), conversation, func(s string) error {
			deltas.WriteString(s)
			return nil
		})
		if err != nil {
			if !known[llm.Classify(err)] {
				t.Fatalf("Stream error %v has reason %q, want a provider failure", err, llm.Classify(err))
			}
			return
		}
		if resp.Text == "" {
			t.Fatal("Stream returned no error and no text")
		}
		if resp.Text != deltas.String() {
			t.Fatalf("Text = %q, deltas = %q, want equal", resp.Text, deltas.String())
		}
	})
}
