package llmtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// NewOllamaHandler returns a handler that speaks the Ollama wire format.
// POST /api/chat responds with one JSON object or a newline-delimited JSON
// stream. The final object has done:true and the prompt_eval_count and
// eval_count token counts. POST /api/embed and the older POST
// /api/embeddings return vectors. Requests that no Reply was scripted for
// get the default behaviour set by opts. The handler is safe for
// concurrent use.
func NewOllamaHandler(opts HandlerOptions) http.Handler {
	return &ollamaHandler{fake: newFake(opts)}
}

type ollamaHandler struct {
	fake *fake
}

func (h *ollamaHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodPost:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	case r.URL.Path == "/api/chat":
		h.chat(w, r)
	case r.URL.Path == "/api/embed":
		h.embed(w, r)
	case r.URL.Path == "/api/embeddings":
		h.embeddings(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown path " + r.URL.Path})
	}
}

// ollamaChatRequest is the subset of the /api/chat request body the fake
// reads. Ollama streams unless "stream" is false, so a missing field means
// true.
type ollamaChatRequest struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	Stream   *bool     `json:"stream"`
	Options  struct {
		NumPredict  int     `json:"num_predict"`
		Temperature float64 `json:"temperature"`
	} `json:"options"`
}

func (h *ollamaHandler) chat(w http.ResponseWriter, r *http.Request) {
	var body ollamaChatRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	req := Request{
		Path:        r.URL.Path,
		Model:       body.Model,
		Messages:    body.Messages,
		Stream:      body.Stream == nil || *body.Stream,
		MaxTokens:   body.Options.NumPredict,
		Temperature: body.Options.Temperature,
		Header:      r.Header.Clone(),
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
		writeJSON(w, reply.Status, map[string]string{"error": msg})
	case reply.Raw != "":
		writeRaw(w, reply, "application/x-ndjson")
	default:
		h.stream(w, r, req, reply)
	}
}

// stream writes the reply as NDJSON, or as a single object with done:true
// when the request turned streaming off.
func (h *ollamaHandler) stream(w http.ResponseWriter, r *http.Request, req Request, reply Reply) {
	ctx := r.Context()
	model := h.fake.model(req)
	object := func(content string, done bool, u *Usage) map[string]any {
		o := map[string]any{
			"model":      model,
			"created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message":    map[string]string{"role": "assistant", "content": content},
			"done":       done,
		}
		if done {
			o["done_reason"] = "stop"
		}
		if u != nil {
			o["prompt_eval_count"] = u.PromptTokens
			o["eval_count"] = u.CompletionTokens
		}
		return o
	}

	if !h.fake.wait(ctx, reply.FirstTokenDelay) {
		return
	}
	u := usage(reply, req)
	if !req.Stream {
		writeJSON(w, http.StatusOK, object(strings.Join(reply.Chunks, ""), true, &u))
		return
	}

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flush(w)
	enc := json.NewEncoder(w)
	for i, c := range reply.Chunks {
		if i > 0 && !h.fake.wait(ctx, reply.Delay) {
			return
		}
		_ = enc.Encode(object(c, false, nil))
		flush(w)
		if reply.CutAfter > 0 && i+1 >= reply.CutAfter {
			abort()
		}
	}
	if reply.Stall {
		h.fake.hold(ctx)
		return
	}
	if reply.OmitDone {
		return
	}
	_ = enc.Encode(object("", true, &u))
	flush(w)
}

// embed serves /api/embed, whose input is a string or a list of strings.
func (h *ollamaHandler) embed(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	inputs := stringOrList(body.Input)
	vectors := make([][]float32, len(inputs))
	for i, in := range inputs {
		vectors[i] = embed(in, h.fake.opts.EmbeddingDim)
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": body.Model, "embeddings": vectors})
}

// embeddings serves the older /api/embeddings, one prompt per request.
func (h *ollamaHandler) embeddings(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model  string `json:"model"`
		Prompt string `json:"prompt"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"embedding": embed(body.Prompt, h.fake.opts.EmbeddingDim)})
}
