package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/web/protocol"
)

// hardReadLimit is the largest frame read at all. Frames between
// Config.MaxFrameBytes and this size get a frame_too_large error frame and
// the connection stays open; larger ones close it with 1009.
const hardReadLimit = 2 << 20

// maxWarnings bounds the warnings logged for one connection's bad frames.
const maxWarnings = 5

// conn is one WebSocket connection. The reader goroutine (run) decodes
// frames, a worker goroutine runs turns one at a time, and a writer
// goroutine owns every write to the socket. The worker starts with the
// first message, so an idle connection runs two goroutines.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	ip     string
	id     string
	log    *slog.Logger
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc

	pending    chan *protocol.Message
	workerOnce sync.Once     // starts the worker, or marks it done when none started
	closing    chan struct{} // closed when the connection starts closing
	writerDone chan struct{}
	workerDone chan struct{}
	closeOnce  sync.Once
	closeCode  int // set once, before closing is closed
	closeText  string

	// userID is set by the reader goroutine when hello succeeds, before
	// any message reaches the worker.
	userID   string
	warnings atomic.Int32
	started  time.Time

	mu      sync.Mutex
	session bot.Session // guarded by mu
	turns   int         // guarded by mu

	// sendMu guards queue: encoded frames for the writer, at most
	// Config.SendQueue. An empty queue is nil, so an idle connection holds
	// no queue memory. A value on wake (capacity 1) signals the writer that
	// the queue has frames.
	sendMu sync.Mutex
	queue  [][]byte // guarded by sendMu
	wake   chan struct{}
}

func newConn(s *Server, ws *websocket.Conn, ip string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	id := "k_" + strings.ToLower(rand.Text()[:12])
	return &conn{
		s: s, ws: ws, ip: ip, id: id, ctx: ctx, cancel: cancel,
		log:        s.log.With("conn_id", id, "remote", ip),
		wake:       make(chan struct{}, 1),
		pending:    make(chan *protocol.Message, s.cfg.MaxPendingMessages),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		workerDone: make(chan struct{}),
		started:    s.now(),
	}
}

// run serves the connection until it ends and waits for its goroutines.
func (c *conn) run() {
	go c.writeLoop()
	c.readLoop()
	// The client is gone or the connection is closing: stop generation.
	// A running turn still stores its reply (the offline responder replies
	// after a cancelled model call), so a reconnecting client finds it.
	c.cancel()
	c.workerOnce.Do(func() { close(c.workerDone) }) // no message ever started it
	<-c.workerDone
	c.closeWith(websocket.CloseNormalClosure, "")
	<-c.writerDone
	c.mu.Lock()
	turns := c.turns
	c.mu.Unlock()
	c.log.Info("connection closed", "duration_ms", c.s.now().Sub(c.started).Milliseconds(),
		"close_code", c.closeCode, "turns", turns)
}

// abort cancels the connection's running turn; used when the shutdown
// deadline passes.
func (c *conn) abort() {
	c.cancel()
}

// closeWith starts closing the connection with a close frame of the given
// code, after the frames already queued.
func (c *conn) closeWith(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.closing)
	})
}

func (c *conn) readLoop() {
	defer c.recoverPanic("reader")
	c.ws.SetReadLimit(hardReadLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
	})
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.warn("frame over the hard limit", "limit_bytes", hardReadLimit)
				c.s.metrics.rejected.WithLabelValues(protocol.CodeFrameTooLarge).Inc()
				c.closeWith(websocket.CloseMessageTooBig, "frame too large")
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
		if mt != websocket.TextMessage {
			c.reject(&protocol.Error{Code: protocol.CodeUnsupportedFrame,
				Message: "binary frames are not supported; send JSON text frames"}, "")
			continue
		}
		frame, err := protocol.Decode(data, protocol.Limits{
			MaxFrameBytes: c.s.cfg.MaxFrameBytes, MaxMessageRunes: c.s.cfg.MaxMessageRunes})
		if err != nil {
			c.reject(err, messageID(frame))
			continue
		}
		if !c.handle(frame) {
			return
		}
	}
}

// handle acts on one decoded frame; false ends the connection.
func (c *conn) handle(frame any) bool {
	switch f := frame.(type) {
	case *protocol.Hello:
		return c.hello(f)
	case *protocol.Message:
		if c.userID == "" {
			c.reject(&protocol.Error{Code: protocol.CodeHelloRequired, Message: "send hello before messages"}, f.ID)
			return true
		}
		c.enqueue(f)
	case *protocol.Event:
		if c.userID == "" {
			c.reject(&protocol.Error{Code: protocol.CodeHelloRequired, Message: "send hello before events"}, "")
			return true
		}
		c.event(f)
	}
	return true
}

func messageID(frame any) string {
	if m, ok := frame.(*protocol.Message); ok && m != nil {
		return m.ID
	}
	return ""
}

func (c *conn) hello(h *protocol.Hello) bool {
	if c.userID != "" {
		c.reject(&protocol.Error{Code: protocol.CodeInvalidField, Message: "hello was already received on this connection"}, "")
		return true
	}
	userID, visitorID, err := c.s.identity.Resolve(h.VisitorID, h.UserToken)
	if err != nil {
		c.reject(&protocol.Error{Code: protocol.CodeUnauthorized, Cause: err,
			Message: "identity rejected: send a valid, unexpired user_token signed by the store"}, "")
		if c.s.identity.requireSigned {
			c.closeWith(protocol.CloseUnauthorized, "unauthorized")
			return false
		}
		return true
	}
	sess := bot.Session{
		UserID: userID, Locale: h.Locale, Timezone: h.Timezone, Device: h.Device,
		Country: strings.ToUpper(h.Geo.Country), Region: h.Geo.Region, City: h.Geo.City,
		Page: pageOf(h.Page), CartValue: h.CartValue,
	}
	res, err := c.s.engine.Hello(c.ctx, sess, h.ResumeAfter)
	if err != nil {
		c.log.Error("hello failed", "user_id", userID, "error", err)
		c.reject(&protocol.Error{Code: protocol.CodeInternal, Retryable: true, Cause: err,
			Message: "the server could not load the conversation; retry"}, "")
		return true
	}
	sess.ConversationID = res.ConversationID
	sess.SinceLastVisit = res.SinceLastVisit
	c.mu.Lock()
	c.session = sess
	c.mu.Unlock()
	c.userID = userID
	c.log = c.log.With("user_id", userID)
	c.s.joinUser(c)
	ready := protocol.Ready{Type: protocol.TypeReady, Protocol: protocol.Version,
		VisitorID: visitorID, UserID: userID, ConversationID: res.ConversationID,
		HandedOver: res.HandedOver, History: historyFrames(res.History)}
	c.sendFrame(ready)
	c.log.Debug("hello", "resume_after", h.ResumeAfter, "history", len(ready.History))
	return true
}

func historyFrames(items []bot.HistoryItem) []protocol.HistoryMessage {
	out := make([]protocol.HistoryMessage, 0, len(items))
	for _, it := range items {
		hm := protocol.HistoryMessage{Seq: it.Seq, Role: it.Role, Text: it.Text, Time: it.Time,
			Products: productFrames(it.Products)}
		if it.Turn != nil {
			hm.TurnID = it.Turn.TurnID
		}
		out = append(out, hm)
	}
	return out
}

func pageOf(p protocol.Page) bot.Page {
	return bot.Page{Kind: p.Kind, URL: p.URL, ProductID: p.ProductID}
}

func (c *conn) enqueue(m *protocol.Message) {
	if ok, wait := c.s.userLimit.allow(c.userID); !ok {
		c.s.metrics.rateLimited.WithLabelValues("user").Inc()
		c.reject(rateLimited(wait), m.ID)
		return
	}
	if ok, wait := c.s.ipLimit.allow(c.ip); !ok {
		c.s.metrics.rateLimited.WithLabelValues("ip").Inc()
		c.reject(rateLimited(wait), m.ID)
		return
	}
	select {
	case c.pending <- m:
		c.workerOnce.Do(func() { go c.workLoop() })
	default:
		c.reject(&protocol.Error{Code: protocol.CodeQueueFull, Retryable: true,
			Message: fmt.Sprintf("%d messages are already waiting for a reply; resend after the next reply", cap(c.pending))}, m.ID)
	}
}

func rateLimited(wait time.Duration) *protocol.Error {
	secs := int(wait.Seconds()) + 1
	return &protocol.Error{Code: protocol.CodeRateLimited, Retryable: true,
		Message: fmt.Sprintf("too many messages; retry in %d s", secs)}
}

func (c *conn) event(f *protocol.Event) {
	if ok, wait := c.s.eventLimit.allow(c.userID); !ok {
		c.s.metrics.rateLimited.WithLabelValues("events").Inc()
		c.reject(&protocol.Error{Code: protocol.CodeRateLimited, Retryable: true,
			Message: fmt.Sprintf("too many events; retry in %d s", int(wait.Seconds())+1)}, "")
		return
	}
	c.mu.Lock()
	if f.Page != nil {
		c.session.Page = pageOf(*f.Page)
	}
	switch f.Name {
	case "add_to_cart":
		c.session.CartValue += f.Value
	case "remove_from_cart":
		c.session.CartValue = max(0, c.session.CartValue-f.Value)
	case "checkout", "purchase":
		c.session.CartValue = 0
	case "product_view":
		c.session.Page = bot.Page{Kind: "product", ProductID: f.ProductID, URL: c.session.Page.URL}
	}
	sess := c.session
	c.mu.Unlock()
	ev := bot.Event{Type: f.Name, ProductID: f.ProductID, Category: f.Category,
		OfferID: f.OfferID, TurnID: f.TurnID, Value: f.Value, Rating: f.Rating}
	if err := c.s.engine.Event(c.ctx, sess, ev); err != nil {
		c.log.Error("store event failed", "event", f.Name, "error", err)
		c.reject(&protocol.Error{Code: protocol.CodeInternal, Retryable: true, Cause: err,
			Message: "the event was not stored; retry"}, "")
		return
	}
	c.s.metrics.events.WithLabelValues(f.Name).Inc()
	c.sendFrame(protocol.EventAck{Type: protocol.TypeEventAck, Name: f.Name})
}

// workLoop runs queued messages one at a time. On shutdown it finishes the
// running turn and then closes the connection with 1001.
func (c *conn) workLoop() {
	defer close(c.workerDone)
	defer c.recoverPanic("worker")
	for {
		select {
		case <-c.s.done:
			c.closeWith(websocket.CloseGoingAway, "server shutting down")
			return
		case <-c.ctx.Done():
			select {
			case <-c.s.done:
				c.closeWith(websocket.CloseGoingAway, "server shutting down")
			default:
			}
			return
		case m := <-c.pending:
			c.turn(m)
		}
	}
}

func (c *conn) turn(m *protocol.Message) {
	unlock := c.s.turnLocks.lock(c.userID)
	defer unlock()
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	sink := &connSink{c: c, inReplyTo: m.ID}
	reply, err := c.s.engine.Turn(c.ctx, sess, bot.Incoming{ClientID: m.ID, Text: m.Text}, sink)
	if err != nil && c.ctx.Err() != nil {
		// The client left before the message was stored or the turn
		// gathered its inputs; it resends the message with the same id.
		c.s.metrics.turns.WithLabelValues("abandoned").Inc()
		c.log.Info("turn abandoned by the client", "turn_id", sink.turnID, "error", err)
		return
	}
	if err != nil {
		c.s.metrics.turns.WithLabelValues("failed").Inc()
		c.log.Error("turn failed", "turn_id", sink.turnID, "error", err)
		c.reject(&protocol.Error{Code: protocol.CodeInternal, Retryable: true, Cause: err,
			Message: "the reply failed; resend the message with the same id"}, m.ID)
		return
	}
	c.s.metrics.observeTurn(reply)
	c.s.notifyTurn(c.userID, m.Text, reply)
	c.mu.Lock()
	c.turns++
	c.mu.Unlock()
	if reply.HandedOver {
		c.log.Info("message stored for staff", "seq", reply.UserSeq)
		c.sendFrame(protocol.MessageAck{Type: protocol.TypeMessageAck, InReplyTo: m.ID, Seq: reply.UserSeq})
		return
	}
	c.sendFrame(replyEnd(reply))
	if reply.Handover != "" {
		c.sendFrame(protocol.Handover{Type: protocol.TypeHandover, State: reply.Handover})
	}
	st := reply.Stats
	attrs := []any{"turn_id", reply.TurnID, "seq", reply.Seq, "outcome", st.Outcome,
		"scenario", reply.Scenario.Label, "provider", st.Provider, "model", st.Model,
		"duration_ms", st.Total.Milliseconds(), "first_token_ms", st.FirstToken.Milliseconds(),
		"tokens_in", st.TokensIn, "tokens_out", st.TokensOut, "products", len(reply.Products)}
	if reply.Offer != nil {
		attrs = append(attrs, "offer_id", reply.Offer.ID)
	}
	c.log.Info("turn finished", attrs...)
}

func replyEnd(r bot.Reply) protocol.ReplyEnd {
	end := protocol.ReplyEnd{Type: protocol.TypeReplyEnd, TurnID: r.TurnID, InReplyTo: r.InReplyTo,
		Seq: r.Seq, Text: r.Text, Products: productFrames(r.Products), Relaxed: r.Relaxed,
		QuickReplies: r.QuickReplies, Duplicate: r.Duplicate}
	if end.QuickReplies == nil {
		end.QuickReplies = []string{}
	}
	if !r.Duplicate {
		sc := protocol.Scenario(r.Scenario)
		end.Scenario = &sc
	}
	if r.Offer != nil {
		o := protocol.Offer(*r.Offer)
		end.Offer = &o
	}
	return end
}

func productFrames(cards []bot.ProductCard) []protocol.Product {
	out := make([]protocol.Product, 0, len(cards))
	for _, p := range cards {
		out = append(out, protocol.Product(p))
	}
	return out
}

// connSink forwards a streaming reply to the connection.
type connSink struct {
	c         *conn
	inReplyTo string
	turnID    string
}

func (s *connSink) Start(turnID string, userSeq uint64) {
	s.turnID = turnID
	s.c.sendFrame(protocol.ReplyStart{Type: protocol.TypeReplyStart, TurnID: turnID,
		InReplyTo: s.inReplyTo, UserSeq: userSeq})
}

func (s *connSink) Delta(text string, reset bool) {
	s.c.sendFrame(protocol.ReplyDelta{Type: protocol.TypeReplyDelta, TurnID: s.turnID, Text: text, Reset: reset})
}

// reject sends an error frame and logs the rejection at warn level, at most
// maxWarnings times per connection.
func (c *conn) reject(err error, inReplyTo string) {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		pe = &protocol.Error{Code: protocol.CodeInternal, Message: "the server failed", Cause: err}
	}
	c.s.metrics.rejected.WithLabelValues(pe.Code).Inc()
	if pe.Code != protocol.CodeInternal {
		c.warn("frame rejected", "code", pe.Code, "error", pe)
	}
	c.sendFrame(pe.Frame(inReplyTo))
}

func (c *conn) warn(msg string, args ...any) {
	n := c.warnings.Add(1)
	switch {
	case n <= maxWarnings:
		c.log.Warn(msg, args...)
	case n == maxWarnings+1:
		c.log.Warn("further warnings for this connection suppressed")
	}
}

// sendFrame queues a frame for the writer. A full queue means the client
// is not reading: the connection is closed with 1008 rather than letting
// it hold up the turn.
func (c *conn) sendFrame(frame any) {
	data, err := json.Marshal(frame)
	if err != nil {
		c.log.Error("encode frame", "error", err)
		return
	}
	c.sendRaw(data)
}

func (c *conn) sendRaw(data []byte) {
	select {
	case <-c.closing:
		return
	default:
	}
	c.sendMu.Lock()
	full := len(c.queue) >= c.s.cfg.SendQueue
	if !full {
		c.queue = append(c.queue, data)
	}
	c.sendMu.Unlock()
	if full {
		c.s.metrics.rateLimited.WithLabelValues("send_queue").Inc()
		c.warn("send queue full; closing slow client", "queue", c.s.cfg.SendQueue)
		c.closeWith(websocket.ClosePolicyViolation, "send queue full")
		c.cancel()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// nextFrame removes the oldest queued frame. The queue goes back to nil
// when it empties, so its backing array is freed.
func (c *conn) nextFrame() ([]byte, bool) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if len(c.queue) == 0 {
		return nil, false
	}
	data := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return data, true
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	defer c.ws.Close()
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer ping.Stop()
	shutdown := c.s.done
	for {
		select {
		case <-c.wake:
			if !c.writeQueued() {
				return
			}
		case <-shutdown:
			shutdown = nil
			// A connection whose worker never started has no turn to
			// finish, so the writer closes it. A started worker closes its
			// connection after the running turn.
			c.workerOnce.Do(func() {
				close(c.workerDone)
				c.closeWith(websocket.CloseGoingAway, "server shutting down")
			})
		case <-ping.C:
			deadline := time.Now().Add(c.s.cfg.WriteTimeout)
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				c.cancel()
				return
			}
		case <-c.closing:
			c.flushAndClose()
			return
		}
	}
}

// writeQueued writes the queued frames until the queue is empty or the
// connection starts closing. It returns false when the writer must stop.
func (c *conn) writeQueued() bool {
	for {
		select {
		case <-c.closing:
			c.flushAndClose()
			return false
		default:
		}
		data, ok := c.nextFrame()
		if !ok {
			return true
		}
		if !c.write(data) {
			c.closeWith(websocket.CloseAbnormalClosure, "")
			c.cancel()
			return false
		}
	}
}

func (c *conn) write(data []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, data) == nil
}

// flushAndClose writes the frames still queued (unless the client is too
// slow to take them) and then the close frame.
func (c *conn) flushAndClose() {
	if c.closeCode != websocket.ClosePolicyViolation && c.closeCode != websocket.CloseAbnormalClosure {
		for {
			data, ok := c.nextFrame()
			if !ok {
				break
			}
			if !c.write(data) {
				return
			}
		}
	}
	if c.closeCode == websocket.CloseAbnormalClosure {
		return
	}
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// recoverPanic logs a panic in a connection goroutine with its stack and
// closes that connection with an internal-error code.
func (c *conn) recoverPanic(where string) {
	if r := recover(); r != nil {
		c.log.Error("connection goroutine panicked", "goroutine", where, "panic", r,
			"stack", string(debug.Stack()))
		c.closeWith(websocket.CloseInternalServerErr, "internal error")
		c.cancel()
	}
}
