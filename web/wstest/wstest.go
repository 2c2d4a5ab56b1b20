// Package wstest is a WebSocket client for tests of Concierge's /ws
// protocol, in the way of net/http/httptest. It dials with gorilla's
// Dialer, sends frames as JSON text and reads server frames with a deadline
// on every read, so a test that waits for a frame that never comes fails
// instead of hanging. Import it only from _test.go files.
//
// A Client is used from one test goroutine at a time: gorilla/websocket
// allows one concurrent reader and one concurrent writer per connection.
package wstest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/web/protocol"
)

// DefaultTimeout bounds each read and write unless Client.Timeout is set.
const DefaultTimeout = 5 * time.Second

// Client is one WebSocket connection to a Concierge server.
type Client struct {
	// Conn is the underlying connection, for tests that need raw access.
	Conn *websocket.Conn
	// Timeout bounds each read and write; zero means DefaultTimeout.
	Timeout time.Duration
}

// WSURL turns an http:// or https:// server URL into the ws:// or wss://
// URL of its /ws endpoint. A URL that already has a ws scheme is returned
// unchanged.
func WSURL(serverURL string) string {
	switch {
	case strings.HasPrefix(serverURL, "ws://"), strings.HasPrefix(serverURL, "wss://"):
		return serverURL
	case strings.HasPrefix(serverURL, "https://"):
		return "wss://" + strings.TrimPrefix(serverURL, "https://") + "/ws"
	default:
		return "ws://" + strings.TrimPrefix(serverURL, "http://") + "/ws"
	}
}

// Dial connects to url (an httptest server URL or a ws:// URL) and closes
// the connection when the test ends. It fails the test when the upgrade
// fails.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	c, resp, err := DialHeader(t, url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP status %d)", url, err, status)
	}
	return c
}

// DialHeader connects with extra request headers, such as Origin. It
// returns the error and the HTTP response of a failed upgrade instead of
// failing the test, for tests of rejected upgrades.
func DialHeader(t testing.TB, url string, header http.Header) (*Client, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: DefaultTimeout}
	ws, resp, err := d.Dial(WSURL(url), header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, resp, err
	}
	c := &Client{Conn: ws}
	t.Cleanup(c.Close)
	return c, resp, nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Close sends a normal close frame and closes the connection. It is safe to
// call more than once.
func (c *Client) Close() {
	deadline := time.Now().Add(time.Second)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.Conn.WriteControl(websocket.CloseMessage, msg, deadline)
	_ = c.Conn.Close()
}

// Send writes frame as one JSON text frame.
func (c *Client) Send(t testing.TB, frame any) {
	t.Helper()
	data, err := json.Marshal(frame)
	if err != nil {
		t.Fatalf("encode frame %T: %v", frame, err)
	}
	c.SendRaw(t, websocket.TextMessage, data)
}

// SendRaw writes data as one frame of the given message type
// (websocket.TextMessage or websocket.BinaryMessage), unchecked.
func (c *Client) SendRaw(t testing.TB, messageType int, data []byte) {
	t.Helper()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout()))
	if err := c.Conn.WriteMessage(messageType, data); err != nil {
		t.Fatalf("write %d-byte frame: %v", len(data), err)
	}
}

// SendHello sends a hello frame, filling in the type and protocol version
// when they are empty, without waiting for the ready frame.
func (c *Client) SendHello(t testing.TB, h protocol.Hello) {
	t.Helper()
	if h.Type == "" {
		h.Type = protocol.TypeHello
	}
	if h.Protocol == 0 {
		h.Protocol = protocol.Version
	}
	c.Send(t, h)
}

// Hello sends a hello frame and returns the ready frame. An error frame in
// its place fails the test.
func (c *Client) Hello(t testing.TB, h protocol.Hello) protocol.Ready {
	t.Helper()
	c.SendHello(t, h)
	f := c.NextFrame(t)
	if f.Type != protocol.TypeReady {
		t.Fatalf("hello: got %s frame %s, want ready", f.Type, f.Raw)
	}
	var ready protocol.Ready
	f.Decode(t, &ready)
	return ready
}

// SendMessage sends a message frame with the given client id and text.
func (c *Client) SendMessage(t testing.TB, id, text string) {
	t.Helper()
	c.Send(t, protocol.Message{Type: protocol.TypeMessage, ID: id, Text: text})
}

// Frame is one server frame: its type and its raw JSON.
type Frame struct {
	Type string
	Raw  json.RawMessage
}

// Decode unmarshals the frame into v, failing the test on an error.
func (f Frame) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(f.Raw, v); err != nil {
		t.Fatalf("decode %s frame %s: %v", f.Type, f.Raw, err)
	}
}

// Map returns the frame as a generic JSON object.
func (f Frame) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	f.Decode(t, &m)
	return m
}

// ReadRaw reads the next frame of any type within the timeout. It returns
// the read error unchanged, so tests can inspect close codes.
func (c *Client) ReadRaw() (messageType int, data []byte, err error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout()))
	return c.Conn.ReadMessage()
}

// NextFrame reads the next server frame within the timeout. A read error,
// a binary frame or a frame without a type fails the test.
func (c *Client) NextFrame(t testing.TB) Frame {
	t.Helper()
	mt, data, err := c.ReadRaw()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if mt != websocket.TextMessage {
		t.Fatalf("read frame: got message type %d, want text", mt)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Type == "" {
		t.Fatalf("read frame: %s is not a JSON object with a type (%v)", data, err)
	}
	return Frame{Type: head.Type, Raw: data}
}

// Next reads the next server frame as a generic JSON object.
func (c *Client) Next(t testing.TB) map[string]any {
	t.Helper()
	return c.NextFrame(t).Map(t)
}

// ReadUntil reads frames until one of type typ arrives and returns it; the
// frames before it are dropped. The timeout applies to each read.
func (c *Client) ReadUntil(t testing.TB, typ string) Frame {
	t.Helper()
	for {
		f := c.NextFrame(t)
		if f.Type == typ {
			return f
		}
	}
}

// ReadError reads the next frame and fails the test unless it is an error
// frame with the given code.
func (c *Client) ReadError(t testing.TB, code string) protocol.ErrorFrame {
	t.Helper()
	f := c.NextFrame(t)
	if f.Type != protocol.TypeError {
		t.Fatalf("got %s frame %s, want error %s", f.Type, f.Raw, code)
	}
	var e protocol.ErrorFrame
	f.Decode(t, &e)
	if e.Code != code {
		t.Fatalf("error code = %q (%s), want %q", e.Code, e.Message, code)
	}
	return e
}

// ReadClose reads until the server closes the connection and returns the
// close code, or -1 when the connection ended without a close frame. Text
// frames before the close are dropped.
func (c *Client) ReadClose(t testing.TB) int {
	t.Helper()
	for {
		_, _, err := c.ReadRaw()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("read close: no close within %v", c.timeout())
		}
		return -1
	}
}

// Reply is one streamed reply as a client sees it.
type Reply struct {
	Start  protocol.ReplyStart
	Deltas []protocol.ReplyDelta
	End    protocol.ReplyEnd
	// Text is the deltas joined the way a client shows them: a delta with
	// Reset drops the text before it.
	Text string
	// Resets counts the deltas with Reset set.
	Resets int
}

// Ask sends a message and collects its reply.
func (c *Client) Ask(t testing.TB, id, text string) Reply {
	t.Helper()
	c.SendMessage(t, id, text)
	return c.ReadReply(t, id)
}

// ReadReply collects the reply to the message with client id inReplyTo:
// reply.start, the reply.delta frames of its turn and reply.end. A
// duplicate reply.end without a start is returned as is. Frames of other
// types are dropped; an error frame for inReplyTo fails the test.
func (c *Client) ReadReply(t testing.TB, inReplyTo string) Reply {
	t.Helper()
	var r Reply
	var text strings.Builder
	for {
		f := c.NextFrame(t)
		switch f.Type {
		case protocol.TypeReplyStart:
			f.Decode(t, &r.Start)
			if r.Start.InReplyTo != inReplyTo {
				t.Fatalf("reply.start in_reply_to = %q, want %q", r.Start.InReplyTo, inReplyTo)
			}
		case protocol.TypeReplyDelta:
			var d protocol.ReplyDelta
			f.Decode(t, &d)
			if d.TurnID != r.Start.TurnID {
				t.Fatalf("reply.delta turn_id = %q, want %q from reply.start", d.TurnID, r.Start.TurnID)
			}
			if d.Reset {
				r.Resets++
				text.Reset()
			}
			text.WriteString(d.Text)
			r.Deltas = append(r.Deltas, d)
		case protocol.TypeReplyEnd:
			f.Decode(t, &r.End)
			if r.End.InReplyTo != inReplyTo {
				t.Fatalf("reply.end in_reply_to = %q, want %q", r.End.InReplyTo, inReplyTo)
			}
			r.Text = text.String()
			return r
		case protocol.TypeError:
			var e protocol.ErrorFrame
			f.Decode(t, &e)
			if e.InReplyTo == inReplyTo {
				t.Fatalf("message %q got error %s: %s", inReplyTo, e.Code, e.Message)
			}
		}
	}
}
