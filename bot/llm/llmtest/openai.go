package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// NewOpenAIHandler returns a handler that speaks the OpenAI chat completions
// and embeddings wire format, with or without the /v1 prefix:
// POST /chat/completions as JSON or as a server-sent event stream ending with
// "data: [DONE]", and POST /embeddings. Requests that no Reply was
// scripted for get the default behaviour set by opts. The handler is safe
// for concurrent use and needs no testing.TB, so a load tool can serve it.
func NewOpenAIHandler(opts HandlerOptions) http.Handler {
	return &openAIHandler{fake: newFake(opts)}
}

type openAIHandler struct {
	fake *fake
}

func (h *openAIHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	switch {
	case r.Method != http.MethodPost:
		writeOpenAIError(w, http.StatusMethodNotAllowed, "method not allowed", "invalid_request_error")
	case path == "/chat/completions":
		h.chat(w, r)
	case path == "/embeddings":
		h.embeddings(w, r)
	default:
		writeOpenAIError(w, http.StatusNotFound, "unknown path "+r.URL.Path, "invalid_request_error")
	}
}

// openAIChatRequest is the subset of the chat completions request body the
// fake reads.
type openAIChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           int     `json:"max_tokens"`
	MaxCompletionTokens int     `json:"max_completion_tokens"`
	Temperature         float64 `json:"temperature"`
}

func (h *openAIHandler) chat(w http.ResponseWriter, r *http.Request) {
	var body openAIChatRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), "invalid_request_error")
		return
	}
	req := Request{
		Path:         r.URL.Path,
		Model:        body.Model,
		Stream:       body.Stream,
		IncludeUsage: body.StreamOptions != nil && body.StreamOptions.IncludeUsage,
		MaxTokens:    max(body.MaxTokens, body.MaxCompletionTokens),
		Temperature:  body.Temperature,
		Header:       r.Header.Clone(),
	}
	for _, m := range body.Messages {
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: contentText(m.Content)})
	}
	reply := h.fake.next(req)

	switch {
	case reply.Status != 0 && reply.Status != http.StatusOK:
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		msg := reply.ErrorMessage
		if msg == "" {
			msg = http.StatusText(reply.Status)
		}
		writeOpenAIError(w, reply.Status, msg, openAIErrorType(reply.Status))
	case reply.Raw != "":
		writeRaw(w, reply, "text/event-stream")
	case req.Stream:
		h.stream(w, r, req, reply)
	default:
		h.complete(w, r, req, reply)
	}
}

// contentText reads a message content that is either a string or an array
// of parts, joining the text parts.
func contentText(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func (h *openAIHandler) complete(w http.ResponseWriter, r *http.Request, req Request, reply Reply) {
	if !h.fake.wait(r.Context(), reply.FirstTokenDelay) {
		return
	}
	u := usage(reply, req)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      "chatcmpl-fake",
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   h.fake.model(req),
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": strings.Join(reply.Chunks, "")},
			"finish_reason": "stop",
		}},
		"usage": openAIUsage(u),
	})
}

func (h *openAIHandler) stream(w http.ResponseWriter, r *http.Request, req Request, reply Reply) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush(w)

	model := h.fake.model(req)
	event := func(choices []any, u *Usage) {
		chunk := map[string]any{
			"id":      "chatcmpl-fake",
			"object":  "chat.completion.chunk",
			"created": time.Now().Unix(),
			"model":   model,
			"choices": choices,
		}
		if u != nil {
			chunk["usage"] = openAIUsage(*u)
		}
		b, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", b)
		flush(w)
	}
	delta := func(content, finish string) []any {
		choice := map[string]any{"index": 0, "delta": map[string]any{"content": content}}
		if finish != "" {
			choice["finish_reason"] = finish
		}
		return []any{choice}
	}

	if !h.fake.wait(ctx, reply.FirstTokenDelay) {
		return
	}
	if reply.EmptyChoicesChunk {
		event([]any{}, nil)
	}
	for i, c := range reply.Chunks {
		if i > 0 && !h.fake.wait(ctx, reply.Delay) {
			return
		}
		event(delta(c, ""), nil)
		if reply.CutAfter > 0 && i+1 >= reply.CutAfter {
			abort()
		}
	}
	if reply.Stall {
		h.fake.hold(ctx)
		return
	}
	event(delta("", "stop"), nil)
	if req.IncludeUsage {
		u := usage(reply, req)
		event([]any{}, &u)
	}
	if reply.OmitDone {
		return
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	flush(w)
}

func (h *openAIHandler) embeddings(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), "invalid_request_error")
		return
	}
	inputs := stringOrList(body.Input)
	data := make([]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": embed(in, h.fake.opts.EmbeddingDim)}
		tokens += len(strings.Fields(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  body.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// stringOrList decodes a JSON value that is a string or a list of strings.
func stringOrList(raw json.RawMessage) []string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

func openAIUsage(u Usage) map[string]int {
	return map[string]int{
		"prompt_tokens":     u.PromptTokens,
		"completion_tokens": u.CompletionTokens,
		"total_tokens":      u.PromptTokens + u.CompletionTokens,
	}
}

func openAIErrorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// writeOpenAIError writes an error in the OpenAI shape
// {"error":{"message":..,"type":..}}.
func writeOpenAIError(w http.ResponseWriter, status int, msg, typ string) {
	writeJSON(w, status, map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "code": nil},
	})
}
