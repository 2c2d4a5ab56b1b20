package llmtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Server is a fake LLM server on a loopback httptest server. Tests queue
// replies with Script and read what the client sent with Requests. Its
// methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, without a trailing slash. For the
	// OpenAI flavour it serves both URL and URL+"/v1".
	URL string

	fake *fake
	ts   *httptest.Server
}

// NewOpenAI starts a fake OpenAI-compatible server with the default
// HandlerOptions and closes it when the test ends.
func NewOpenAI(t testing.TB) *Server {
	t.Helper()
	h := &openAIHandler{fake: newFake(HandlerOptions{})}
	return start(t, h.fake, h)
}

// NewOllama starts a fake Ollama server with the default HandlerOptions and
// closes it when the test ends.
func NewOllama(t testing.TB) *Server {
	t.Helper()
	h := &ollamaHandler{fake: newFake(HandlerOptions{})}
	return start(t, h.fake, h)
}

func start(t testing.TB, f *fake, h http.Handler) *Server {
	t.Helper()
	ts := httptest.NewServer(h)
	s := &Server{URL: ts.URL, fake: f, ts: ts}
	t.Cleanup(s.Close)
	return s
}

// Script queues replies for the next chat requests, one reply per request
// in order. Requests beyond the queue get the default echo reply.
func (s *Server) Script(replies ...Reply) {
	s.fake.enqueue(replies...)
}

// Requests returns a copy of the chat requests received so far, in arrival
// order.
func (s *Server) Requests() []Request {
	return s.fake.recorded()
}

// Canceled returns a channel that receives one value each time a request
// context ends while its handler is still streaming or waiting, as when the
// client cancels. Signals beyond a buffer of 64 are dropped.
func (s *Server) Canceled() <-chan struct{} {
	return s.fake.canceled
}

// Close releases stalled handlers and shuts the server down. It is safe to
// call more than once.
func (s *Server) Close() {
	s.fake.close()
	s.ts.Close()
}
