package web_test

import (
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

// pageView is a cheap frame that every healthy connection acknowledges.
var pageView = protocol.Event{Type: protocol.TypeEvent, Name: "page_view",
	Page: &protocol.Page{Kind: "home"}}

// checkAlive fails the test unless c still acknowledges an event.
func checkAlive(t *testing.T, c *wstest.Client, who string) {
	t.Helper()
	c.Send(t, pageView)
	f := c.NextFrame(t)
	if f.Type != protocol.TypeEventAck {
		t.Fatalf("%s connection answered a page_view with %s %s, want event.ack", who, f.Type, f.Raw)
	}
}

func messageJSON(id, text string) string {
	return `{"type":"message","id":"` + id + `","text":"` + text + `"}`
}

func TestFramesBeforeHello(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)

	c.SendMessage(t, "m-early", "hello there")
	if ef := c.ReadError(t, protocol.CodeHelloRequired); ef.InReplyTo != "m-early" {
		t.Errorf("hello_required in_reply_to = %q, want m-early", ef.InReplyTo)
	}
	c.Send(t, pageView)
	c.ReadError(t, protocol.CodeHelloRequired)
	c.SendHello(t, protocol.Hello{Protocol: 2})
	c.ReadError(t, protocol.CodeUnsupportedProtocol)
	c.SendRaw(t, websocket.TextMessage, []byte(`{"type":"hello","protocol":"1"}`))
	c.ReadError(t, protocol.CodeInvalidField)

	ready := c.Hello(t, protocol.Hello{})
	if n := len(e.history(ready.UserID)); n != 0 {
		t.Errorf("frames before hello stored %d messages, want 0", n)
	}
	c.SendHello(t, protocol.Hello{})
	c.ReadError(t, protocol.CodeInvalidField)
	checkAlive(t, c, "after a second hello")
}

// TestBadFramesSpareConnectionAndNeighbour sends every kind of bad frame on
// one connection: each gets its documented error code, the connection
// stays usable, a neighbour keeps working and nothing is stored.
func TestBadFramesSpareConnectionAndNeighbour(t *testing.T) {
	e := newEnv(t, envOptions{})
	neighbour := wstest.Dial(t, e.URL)
	neighbour.Hello(t, protocol.Hello{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{})

	tests := []struct {
		name      string
		binary    bool
		frame     string
		code      string
		inReplyTo string
	}{
		{name: "truncated_json", frame: `{"type":"message"`, code: protocol.CodeInvalidJSON},
		{name: "not_json", frame: `hello`, code: protocol.CodeInvalidJSON},
		{name: "json_array", frame: `[1,2]`, code: protocol.CodeInvalidJSON},
		{name: "json_string", frame: `"message"`, code: protocol.CodeInvalidJSON},
		{name: "json_null", frame: `null`, code: protocol.CodeInvalidJSON},
		{name: "trailing_data", frame: messageJSON("m-t", "hi") + ` {}`, code: protocol.CodeInvalidJSON},
		{name: "invalid_utf8", frame: messageJSON("m-u", "caf\xe9"), code: protocol.CodeInvalidJSON},
		{name: "binary_frame", binary: true, frame: messageJSON("m-b", "hi"), code: protocol.CodeUnsupportedFrame},
		{name: "unknown_type", frame: `{"type":"subscribe"}`, code: protocol.CodeUnknownType},
		{name: "missing_type", frame: `{"id":"m-x","text":"hi"}`, code: protocol.CodeUnknownType},
		{name: "missing_id", frame: `{"type":"message","text":"hi"}`, code: protocol.CodeInvalidField},
		{name: "id_too_long", frame: messageJSON(strings.Repeat("i", 65), "hi"), code: protocol.CodeInvalidField,
			inReplyTo: strings.Repeat("i", 65)},
		{name: "text_not_string", frame: `{"type":"message","id":"m-n","text":5}`, code: protocol.CodeInvalidField},
		{name: "unknown_event", frame: `{"type":"event","name":"teleport"}`, code: protocol.CodeInvalidField},
		{name: "feedback_rating", frame: `{"type":"event","name":"feedback","turn_id":"t_1","rating":5}`,
			code: protocol.CodeInvalidField},
		{name: "negative_value", frame: `{"type":"event","name":"purchase","value":-3}`, code: protocol.CodeInvalidField},
		{name: "empty_text", frame: messageJSON("m-e", ""), code: protocol.CodeEmptyText, inReplyTo: "m-e"},
		{name: "blank_text", frame: messageJSON("m-w", ` \n\t `), code: protocol.CodeEmptyText, inReplyTo: "m-w"},
		{name: "text_over_rune_limit", frame: messageJSON("m-l", strings.Repeat("好", 2001)),
			code: protocol.CodeMessageTooLong, inReplyTo: "m-l"},
		{name: "frame_over_limit", frame: messageJSON("m-f", strings.Repeat("a", 70_000)), code: protocol.CodeFrameTooLarge},
		{name: "one_megabyte_text", frame: messageJSON("m-mb", strings.Repeat("b", 1<<20)), code: protocol.CodeFrameTooLarge},
		{name: "lone_high_surrogate", frame: messageJSON("m-s1", `x\ud800y`), code: protocol.CodeInvalidText},
		{name: "lone_low_surrogate", frame: messageJSON("m-s2", `\udc00`), code: protocol.CodeInvalidText},
		{name: "high_then_letter", frame: messageJSON("m-s3", `\ud83d\u0041`), code: protocol.CodeInvalidText},
		{name: "control_character", frame: messageJSON("m-c", `ring \u0007 bell`), code: protocol.CodeInvalidText,
			inReplyTo: "m-c"},
		{name: "escape_character", frame: messageJSON("m-esc", `\u001b[31mred`), code: protocol.CodeInvalidText,
			inReplyTo: "m-esc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt := websocket.TextMessage
			if tt.binary {
				mt = websocket.BinaryMessage
			}
			c.SendRaw(t, mt, []byte(tt.frame))
			ef := c.ReadError(t, tt.code)
			if ef.InReplyTo != tt.inReplyTo {
				t.Errorf("in_reply_to = %q, want %q", ef.InReplyTo, tt.inReplyTo)
			}
			if ef.Retryable {
				t.Errorf("%s error is marked retryable", tt.code)
			}
			if ef.Message == "" {
				t.Error("error frame has no message")
			}
			checkAlive(t, c, "offending")
			checkAlive(t, neighbour, "neighbour")
		})
	}

	if n := len(e.history(ready.UserID)); n != 0 {
		t.Fatalf("bad frames stored %d messages, want 0", n)
	}
	r := c.Ask(t, "m-good", "a wool scarf")
	if r.Start.UserSeq != 1 {
		t.Errorf("first good message got user_seq %d, want 1", r.Start.UserSeq)
	}
	neighbour.Ask(t, "n-1", "waterproof boots")
}

func TestFrameOverHardLimitClosesWith1009(t *testing.T) {
	e := newEnv(t, envOptions{})
	neighbour := wstest.Dial(t, e.URL)
	neighbour.Hello(t, protocol.Hello{})
	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{})

	huge := []byte(messageJSON("m-huge", strings.Repeat("z", 2<<20)))
	// The server stops reading mid-frame, so the write may fail; write from
	// another goroutine while this one reads the close frame.
	written := make(chan struct{})
	go func() {
		defer close(written)
		_ = c.Conn.WriteMessage(websocket.TextMessage, huge)
	}()
	if code := c.ReadClose(t); code != websocket.CloseMessageTooBig {
		t.Errorf("close code = %d, want %d", code, websocket.CloseMessageTooBig)
	}
	<-written
	checkAlive(t, neighbour, "neighbour")
	neighbour.Ask(t, "n-1", "a wool scarf")
}
