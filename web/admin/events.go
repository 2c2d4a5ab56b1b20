package admin

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// liveEvent is one Server-Sent Event of GET /api/admin/events.
type liveEvent struct {
	Type   string    `json:"type"` // "message" or "handover"
	UserID string    `json:"user_id"`
	Role   string    `json:"role,omitempty"` // user, assistant or agent
	Seq    uint64    `json:"seq,omitempty"`
	Text   string    `json:"text,omitempty"`
	Agent  string    `json:"agent,omitempty"`
	State  string    `json:"state,omitempty"` // handover: "agent" or "bot"
	Time   time.Time `json:"time"`
}

// subscriberBuffer is how many events wait for a slow event stream before
// further events to it are dropped.
const subscriberBuffer = 64

// keepAliveInterval is how often an idle event stream gets a comment line,
// so proxies do not close it.
const keepAliveInterval = 20 * time.Second

// hub fans live events out to the open event streams.
type hub struct {
	mu      sync.Mutex
	subs    map[chan liveEvent]struct{} // guarded by mu
	closed  bool                        // guarded by mu
	done    chan struct{}               // closed by close
	dropped atomic.Int64
}

func newHub() *hub {
	return &hub{subs: map[chan liveEvent]struct{}{}, done: make(chan struct{})}
}

// subscribe returns a channel of events and a function that ends the
// subscription; ok is false after close.
func (h *hub) subscribe() (ch chan liveEvent, cancel func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false
	}
	ch = make(chan liveEvent, subscriberBuffer)
	h.subs[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}, true
}

// publish sends ev to every subscriber without blocking; a subscriber whose
// buffer is full misses the event.
func (h *hub) publish(ev liveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			h.dropped.Add(1)
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Publish reports a stored shopper message or bot reply to the live view.
// It does not block, so the WebSocket server can call it from a turn. Its
// signature matches web.Options.OnMessage.
func (h *Handler) Publish(userID, role, text string, seq uint64) {
	h.hub.publish(liveEvent{Type: "message", UserID: userID, Role: role, Seq: seq,
		Text: h.mask(text), Time: h.now()})
}

// events streams live events as Server-Sent Events until the client goes
// away or Close is called. Browsers' EventSource cannot send the
// Authorization header, so the console reads the stream with fetch.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "", "streaming is not supported by this server")
		return
	}
	ch, cancel, ok := h.hub.subscribe()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "", "the server is shutting down; reconnect later")
		return
	}
	defer cancel()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(": connected\n\n"))
	flusher.Flush()

	keepAlive := time.NewTicker(keepAliveInterval)
	defer keepAlive.Stop()
	for {
		select {
		case ev := <-ch:
			data, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			if _, err := w.Write([]byte("event: " + ev.Type + "\ndata: " + string(data) + "\n\n")); err != nil {
				return
			}
			flusher.Flush()
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			flusher.Flush()
		case <-r.Context().Done():
			return
		case <-h.hub.done:
			return
		}
	}
}
