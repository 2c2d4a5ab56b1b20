package llmtest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sseData returns the data fields of a server-sent event stream in order.
func sseData(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return out
}

const chatBody = `{"model":"m","stream":true,"stream_options":{"include_usage":true},
	"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}`

func TestOpenAIStreamWireFormat(t *testing.T) {
	s := llmtest.NewOpenAI(t)
	s.Script(llmtest.Reply{Chunks: []string{"a", "b"}, Usage: &llmtest.Usage{PromptTokens: 5, CompletionTokens: 2}})

	resp := post(t, s.URL+"/chat/completions", chatBody)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	events := sseData(t, resp.Body)
	if len(events) != 5 {
		t.Fatalf("got %d events %q, want 2 deltas, a finish, a usage chunk and [DONE]", len(events), events)
	}
	if events[len(events)-1] != "[DONE]" {
		t.Errorf("last event = %q, want [DONE]", events[len(events)-1])
	}
	var usage struct {
		Choices []any          `json:"choices"`
		Usage   map[string]int `json:"usage"`
	}
	if err := json.Unmarshal([]byte(events[3]), &usage); err != nil {
		t.Fatalf("decode usage chunk %q: %v", events[3], err)
	}
	if len(usage.Choices) != 0 || usage.Usage["prompt_tokens"] != 5 || usage.Usage["completion_tokens"] != 2 {
		t.Errorf("usage chunk = %+v, want empty choices and 5/2 tokens", usage)
	}

	reqs := s.Requests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 2 || reqs[0].Messages[1].Content != "hello there" {
		t.Errorf("recorded requests = %+v, want one with the two messages", reqs)
	}
}

func TestOpenAIStreamWithoutUsageOption(t *testing.T) {
	s := llmtest.NewOpenAI(t)
	resp := post(t, s.URL+"/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	for _, e := range sseData(t, resp.Body) {
		if strings.Contains(e, `"usage"`) {
			t.Errorf("event %q carries usage, but the request did not ask for it", e)
		}
	}
}

func TestOpenAIErrorBody(t *testing.T) {
	s := llmtest.NewOpenAI(t)
	s.Script(llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "7", ErrorMessage: "slow down"})

	resp := post(t, s.URL+"/chat/completions", chatBody)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status = %d, want 429", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want 7", got)
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode error body: %v", err)
	}
	if body.Error.Message != "slow down" || body.Error.Type != "rate_limit_error" {
		t.Errorf("error body = %+v, want message %q and type rate_limit_error", body.Error, "slow down")
	}
}

func TestOpenAINonStreamingEcho(t *testing.T) {
	s := llmtest.NewOpenAI(t)
	resp := post(t, s.URL+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":"ping"}]}`)
	var body struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode completion: %v", err)
	}
	if len(body.Choices) != 1 || body.Choices[0].Message.Content != "echo: ping" {
		t.Errorf("completion = %+v, want one choice with the echo", body)
	}
}

func TestOllamaStreamWireFormat(t *testing.T) {
	s := llmtest.NewOllama(t)
	s.Script(llmtest.Reply{Chunks: []string{"x", "y"}, Usage: &llmtest.Usage{PromptTokens: 4, CompletionTokens: 2}})

	resp := post(t, s.URL+"/api/chat", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	var objects []map[string]any
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("decode NDJSON object: %v", err)
		}
		objects = append(objects, o)
	}
	if len(objects) != 3 {
		t.Fatalf("got %d objects, want 2 chunks and a final one", len(objects))
	}
	last := objects[2]
	if last["done"] != true || last["prompt_eval_count"] != 4.0 || last["eval_count"] != 2.0 {
		t.Errorf("final object = %v, want done with counts 4 and 2", last)
	}
	if objects[0]["done"] != false {
		t.Errorf("first object = %v, want done false", objects[0])
	}
}

func TestEmbeddingsWithLangchaingo(t *testing.T) {
	t.Run("openai", func(t *testing.T) {
		s := llmtest.NewOpenAI(t)
		client, err := openai.New(openai.WithBaseURL(s.URL+"/v1"), openai.WithToken("k"), openai.WithEmbeddingModel("e"))
		if err != nil {
			t.Fatalf("openai.New: %v", err)
		}
		vecs, err := client.CreateEmbedding(t.Context(), []string{"red mug", "blue mug", "red mug"})
		if err != nil {
			t.Fatalf("CreateEmbedding: %v", err)
		}
		checkVectors(t, vecs)
	})
	t.Run("ollama", func(t *testing.T) {
		s := llmtest.NewOllama(t)
		client, err := ollama.New(ollama.WithServerURL(s.URL), ollama.WithModel("e"))
		if err != nil {
			t.Fatalf("ollama.New: %v", err)
		}
		vecs, err := client.CreateEmbedding(t.Context(), []string{"red mug", "blue mug", "red mug"})
		if err != nil {
			t.Fatalf("CreateEmbedding: %v", err)
		}
		checkVectors(t, vecs)
	})
}

// checkVectors checks three vectors for "red mug", "blue mug", "red mug":
// equal texts give equal vectors and different texts different ones.
func checkVectors(t *testing.T, vecs [][]float32) {
	t.Helper()
	if len(vecs) != 3 || len(vecs[0]) != 16 {
		t.Fatalf("got %d vectors, want 3 of length 16", len(vecs))
	}
	same, differ := true, false
	for i := range vecs[0] {
		same = same && vecs[0][i] == vecs[2][i]
		differ = differ || vecs[0][i] != vecs[1][i]
	}
	if !same {
		t.Error("equal texts gave different vectors")
	}
	if !differ {
		t.Error("different texts gave equal vectors")
	}
}

func TestOllamaLegacyEmbeddings(t *testing.T) {
	s := llmtest.NewOllama(t)
	resp := post(t, s.URL+"/api/embeddings", `{"model":"e","prompt":"mug"}`)
	var body struct {
		Embedding []float32 `json:"embedding"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(body.Embedding) != 16 {
		t.Errorf("embedding length = %d, want 16", len(body.Embedding))
	}
}

func TestHandlerDefaultReply(t *testing.T) {
	ts := httptest.NewServer(llmtest.NewOpenAIHandler(llmtest.HandlerOptions{Reply: "fixed answer", ChunkRunes: 3}))
	t.Cleanup(ts.Close)

	resp := post(t, ts.URL+"/v1/chat/completions", chatBody)
	var text strings.Builder
	deltas := 0
	for _, e := range sseData(t, resp.Body) {
		var chunk struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if e == "[DONE]" || json.Unmarshal([]byte(e), &chunk) != nil || len(chunk.Choices) == 0 {
			continue
		}
		if c := chunk.Choices[0].Delta.Content; c != "" {
			text.WriteString(c)
			deltas++
		}
	}
	if text.String() != "fixed answer" || deltas != 4 {
		t.Errorf("streamed %q in %d deltas, want %q in 4", text.String(), deltas, "fixed answer")
	}
}

func TestSplitRunes(t *testing.T) {
	got := llmtest.SplitRunes("你好世界ab", 3)
	want := []string{"你好世", "界ab"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SplitRunes = %q, want %q", got, want)
	}
}
