// Package llmtest provides fake OpenAI-compatible and Ollama servers that
// speak the real wire formats, so tests run langchaingo's own clients
// against them, in the way of net/http/httptest.
//
// NewOpenAI and NewOllama start a loopback server for one test. The test
// queues replies with Server.Script (normal streams, error statuses with
// Retry-After, streams cut or stalled mid-reply, empty choices) and reads
// the decoded requests with Server.Requests. NewOpenAIHandler and
// NewOllamaHandler return the same fakes as plain http.Handlers with a
// fixed default reply and pacing, for use outside tests such as a load
// tool.
package llmtest
