package protocol_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/concierge-chat/concierge/web/protocol"
)

// decodeCases are frames Decode rejects, one or more per error code it
// can return. FuzzDecode uses them as seeds too.
var decodeCases = []struct {
	name  string
	frame string
	code  string
}{
	{name: "truncated", frame: `{"type":"hello"`, code: protocol.CodeInvalidJSON},
	{name: "not_json", frame: `hello`, code: protocol.CodeInvalidJSON},
	{name: "empty_frame", frame: ``, code: protocol.CodeInvalidJSON},
	{name: "array", frame: `[{"type":"hello"}]`, code: protocol.CodeInvalidJSON},
	{name: "null", frame: `null`, code: protocol.CodeInvalidJSON},
	{name: "number", frame: ` 42`, code: protocol.CodeInvalidJSON},
	{name: "trailing_value", frame: `{"type":"hello","protocol":1} {}`, code: protocol.CodeInvalidJSON},
	{name: "invalid_utf8", frame: "{\"type\":\"message\",\"id\":\"a\",\"text\":\"\xff\"}", code: protocol.CodeInvalidJSON},
	{name: "type_not_string", frame: `{"type":5}`, code: protocol.CodeInvalidJSON},
	{name: "unknown_type", frame: `{"type":"subscribe"}`, code: protocol.CodeUnknownType},
	{name: "missing_type", frame: `{"id":"a","text":"hi"}`, code: protocol.CodeUnknownType},
	{name: "long_unknown_type", frame: `{"type":"` + strings.Repeat("x", 500) + `"}`, code: protocol.CodeUnknownType},
	{name: "protocol_2", frame: `{"type":"hello","protocol":2}`, code: protocol.CodeUnsupportedProtocol},
	{name: "protocol_missing", frame: `{"type":"hello"}`, code: protocol.CodeUnsupportedProtocol},
	{name: "protocol_string", frame: `{"type":"hello","protocol":"1"}`, code: protocol.CodeInvalidField},
	{name: "resume_after_negative", frame: `{"type":"hello","protocol":1,"resume_after":-1}`, code: protocol.CodeInvalidField},
	{name: "page_not_object", frame: `{"type":"hello","protocol":1,"page":"home"}`, code: protocol.CodeInvalidField},
	{name: "message_without_id", frame: `{"type":"message","text":"hi"}`, code: protocol.CodeInvalidField},
	{name: "message_id_65_bytes", frame: `{"type":"message","id":"` + strings.Repeat("i", 65) + `","text":"hi"}`,
		code: protocol.CodeInvalidField},
	{name: "text_number", frame: `{"type":"message","id":"a","text":7}`, code: protocol.CodeInvalidField},
	{name: "event_unknown_name", frame: `{"type":"event","name":"teleport"}`, code: protocol.CodeInvalidField},
	{name: "event_missing_name", frame: `{"type":"event"}`, code: protocol.CodeInvalidField},
	{name: "feedback_rating_zero", frame: `{"type":"event","name":"feedback","turn_id":"t"}`, code: protocol.CodeInvalidField},
	{name: "event_negative_value", frame: `{"type":"event","name":"purchase","value":-1}`, code: protocol.CodeInvalidField},
	{name: "event_value_string", frame: `{"type":"event","name":"purchase","value":"9"}`, code: protocol.CodeInvalidField},
	{name: "event_product_id_too_long", frame: `{"type":"event","name":"product_view","product_id":"` +
		strings.Repeat("p", 129) + `"}`, code: protocol.CodeInvalidField},
	{name: "event_category_too_long", frame: `{"type":"event","name":"product_view","category":"` +
		strings.Repeat("c", 257) + `"}`, code: protocol.CodeInvalidField},
	{name: "event_page_url_too_long", frame: `{"type":"event","name":"page_view","page":{"url":"https://x/` +
		strings.Repeat("u", 8192) + `"}}`, code: protocol.CodeInvalidField},
	{name: "hello_page_url_too_long", frame: `{"type":"hello","protocol":1,"page":{"url":"https://x/` +
		strings.Repeat("u", 8192) + `"}}`, code: protocol.CodeInvalidField},
	{name: "hello_locale_too_long", frame: `{"type":"hello","protocol":1,"locale":"` + strings.Repeat("l", 65) + `"}`,
		code: protocol.CodeInvalidField},
	{name: "hello_city_too_long", frame: `{"type":"hello","protocol":1,"geo":{"city":"` + strings.Repeat("c", 129) + `"}}`,
		code: protocol.CodeInvalidField},
	{name: "empty_text", frame: `{"type":"message","id":"a","text":""}`, code: protocol.CodeEmptyText},
	{name: "blank_text", frame: `{"type":"message","id":"a","text":" \n\t\u3000"}`, code: protocol.CodeEmptyText},
	{name: "missing_text", frame: `{"type":"message","id":"a"}`, code: protocol.CodeEmptyText},
	{name: "text_2001_runes", frame: `{"type":"message","id":"a","text":"` + strings.Repeat("é", 2001) + `"}`,
		code: protocol.CodeMessageTooLong},
	{name: "lone_high_surrogate", frame: `{"type":"message","id":"a","text":"\ud800"}`, code: protocol.CodeInvalidText},
	{name: "lone_low_surrogate", frame: `{"type":"message","id":"a","text":"\uDC00x"}`, code: protocol.CodeInvalidText},
	{name: "high_surrogate_at_end", frame: `{"type":"message","id":"a","text":"x\ud83d`, code: protocol.CodeInvalidText},
	{name: "two_high_surrogates", frame: `{"type":"message","id":"a","text":"\ud83d\ud83d"}`, code: protocol.CodeInvalidText},
	{name: "surrogate_in_id", frame: `{"type":"message","id":"\udfff","text":"hi"}`, code: protocol.CodeInvalidText},
	{name: "bell_character", frame: `{"type":"message","id":"a","text":"a\u0007b"}`, code: protocol.CodeInvalidText},
	{name: "c1_control", frame: `{"type":"message","id":"a","text":"a\u0085b"}`, code: protocol.CodeInvalidText},
	{name: "nul_character", frame: `{"type":"message","id":"a","text":"a\u0000b"}`, code: protocol.CodeInvalidText},
}

func TestDecodeRejects(t *testing.T) {
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.Decode([]byte(tt.frame), protocol.Limits{})
			var pe *protocol.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Decode(%.60q) error = %v, want a *protocol.Error", tt.frame, err)
			}
			if pe.Code != tt.code {
				t.Errorf("Decode(%.60q) code = %s (%s), want %s", tt.frame, pe.Code, pe.Message, tt.code)
			}
			if pe.Message == "" {
				t.Error("error has no message for the client")
			}
			if len(pe.Message) > 300 {
				t.Errorf("error message is %d bytes; it echoes too much of the frame", len(pe.Message))
			}
		})
	}
}

func TestDecodeFrameTooLarge(t *testing.T) {
	frame := []byte(`{"type":"message","id":"a","text":"` + strings.Repeat("a", 100) + `"}`)
	_, err := protocol.Decode(frame, protocol.Limits{MaxFrameBytes: 64})
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != protocol.CodeFrameTooLarge {
		t.Fatalf("Decode of a 140-byte frame with a 64-byte limit = %v, want frame_too_large", err)
	}
	if !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Error("frame_too_large error does not wrap ErrFrameTooLarge")
	}
	if _, err := protocol.Decode(frame, protocol.Limits{MaxFrameBytes: len(frame)}); err != nil {
		t.Errorf("frame exactly at the limit rejected: %v", err)
	}
}

func TestDecodeRuneLimit(t *testing.T) {
	lim := protocol.Limits{MaxMessageRunes: 3}
	ok := `{"type":"message","id":"a","text":"茶具好"}`
	if _, err := protocol.Decode([]byte(ok), lim); err != nil {
		t.Errorf("3 runes with a 3-rune limit rejected: %v", err)
	}
	long := `{"type":"message","id":"a","text":"茶具好吗"}`
	_, err := protocol.Decode([]byte(long), lim)
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != protocol.CodeMessageTooLong {
		t.Errorf("4 runes with a 3-rune limit = %v, want message_too_long", err)
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  any
	}{
		{name: "hello_minimal", frame: `{"type":"hello","protocol":1}`,
			want: &protocol.Hello{Type: "hello", Protocol: 1}},
		{name: "hello_unknown_fields_ignored", frame: `{"type":"hello","protocol":1,"x_extra":{"a":[1]},"locale":"zh-CN"}`,
			want: &protocol.Hello{Type: "hello", Protocol: 1, Locale: "zh-CN"}},
		{name: "message_surrogate_pair", frame: `{"type":"message","id":"m","text":"hi \ud83d\ude00"}`,
			want: &protocol.Message{Type: "message", ID: "m", Text: "hi 😀"}},
		{name: "message_escaped_backslash_u", frame: `{"type":"message","id":"m","text":"path \\ud800"}`,
			want: &protocol.Message{Type: "message", ID: "m", Text: `path \ud800`}},
		{name: "message_newlines_and_tabs", frame: `{"type":"message","id":"m","text":"a\n\tb\r"}`,
			want: &protocol.Message{Type: "message", ID: "m", Text: "a\n\tb\r"}},
		{name: "message_id_64_bytes", frame: `{"type":"message","id":"` + strings.Repeat("i", 64) + `","text":"x"}`,
			want: &protocol.Message{Type: "message", ID: strings.Repeat("i", 64), Text: "x"}},
		{name: "event_feedback", frame: `{"type":"event","name":"feedback","turn_id":"t_1","rating":-1}`,
			want: &protocol.Event{Type: "event", Name: "feedback", TurnID: "t_1", Rating: -1}},
		{name: "event_page_view", frame: `{"type":"event","name":"page_view","page":{"kind":"cart"}}`,
			want: &protocol.Event{Type: "event", Name: "page_view", Page: &protocol.Page{Kind: "cart"}}},
		{name: "hello_long_tracking_url", frame: `{"type":"hello","protocol":1,"page":{"url":"https://shop.example/?utm=` +
			strings.Repeat("x", 3000) + `"}}`,
			want: &protocol.Hello{Type: "hello", Protocol: 1,
				Page: protocol.Page{URL: "https://shop.example/?utm=" + strings.Repeat("x", 3000)}}},
		{name: "leading_whitespace", frame: " \n{\"type\":\"hello\",\"protocol\":1}",
			want: &protocol.Hello{Type: "hello", Protocol: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.Decode([]byte(tt.frame), protocol.Limits{})
			if err != nil {
				t.Fatalf("Decode(%q) = %v", tt.frame, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode(%q) = %#v, want %#v", tt.frame, got, tt.want)
			}
		})
	}
}

// docExamples returns the JSON examples of docs/protocol.md: each fenced
// json block, and each line of a block that holds one object per line.
func docExamples(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatalf("read protocol description: %v", err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	var out []string
	for _, b := range blocks {
		out = append(out, b[1])
		for _, line := range strings.Split(b[1], "\n") {
			if strings.HasPrefix(line, "{") && strings.HasSuffix(line, "}") {
				out = append(out, line)
			}
		}
	}
	return out
}

// TestDecodeDocExamples decodes every client frame documented in
// docs/protocol.md, so the page and the decoder cannot drift apart.
func TestDecodeDocExamples(t *testing.T) {
	examples := docExamples(t)
	if len(examples) < 10 {
		t.Fatalf("found %d JSON examples in docs/protocol.md, want at least 10", len(examples))
	}
	clientFrames := 0
	for _, ex := range examples {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(ex), &head); err != nil {
			continue // a block of several objects; its lines are tested alone
		}
		switch head.Type {
		case protocol.TypeHello, protocol.TypeMessage, protocol.TypeEvent:
			clientFrames++
			if _, err := protocol.Decode([]byte(ex), protocol.Limits{}); err != nil {
				t.Errorf("documented %s frame rejected: %v\n%s", head.Type, err, ex)
			}
		}
	}
	if clientFrames < 7 {
		t.Errorf("decoded %d documented client frames, want at least 7 (hello, message, 5 events)", clientFrames)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	frames := []any{
		&protocol.Hello{Type: "hello", Protocol: 1, VisitorID: "v1.k.s", UserToken: "a.b.c", Locale: "zh-CN",
			Timezone: "Asia/Shanghai", Device: "mobile",
			Page: protocol.Page{Kind: "product", URL: "https://shop.example/p/1", ProductID: "p1"},
			Geo:  protocol.Geo{Country: "CN", Region: "Zhejiang", City: "Hangzhou"}, CartValue: 129.5, ResumeAfter: 14},
		&protocol.Message{Type: "message", ID: "m-7f3a", Text: "防水靴 <b>\"quoted\"</b> \u2028 😀"},
		&protocol.Event{Type: "event", Name: "add_to_cart", ProductID: "tea-set", Category: "Home > Tea", Value: 129},
		&protocol.Event{Type: "event", Name: "offer_click", OfferID: "welcome10", TurnID: "t_1",
			Page: &protocol.Page{Kind: "cart"}},
	}
	for _, f := range frames {
		data, err := json.Marshal(f)
		if err != nil {
			t.Fatalf("encode %T: %v", f, err)
		}
		got, err := protocol.Decode(data, protocol.Limits{})
		if err != nil {
			t.Fatalf("decode encoded %T %s: %v", f, data, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("round trip of %T = %#v, want %#v", f, got, f)
		}
	}
}

func TestErrorFrame(t *testing.T) {
	cause := errors.New("disk full")
	e := &protocol.Error{Code: protocol.CodeInternal, Message: "the server failed", Retryable: true, Cause: cause}
	if !errors.Is(e, cause) {
		t.Error("Error does not unwrap to its cause")
	}
	f := e.Frame("m-1")
	want := protocol.ErrorFrame{Type: "error", Code: "internal", Message: "the server failed", Retryable: true, InReplyTo: "m-1"}
	if f != want {
		t.Errorf("Frame = %+v, want %+v", f, want)
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatalf("encode error frame: %v", err)
	}
	if strings.Contains(string(data), "disk full") {
		t.Errorf("error frame %s leaks the internal cause", data)
	}
}

// FuzzDecode checks that Decode never panics, rejects frames over the
// limit, and that a frame it accepts survives encoding and decoding
// unchanged.
func FuzzDecode(f *testing.F) {
	for _, tt := range decodeCases {
		f.Add([]byte(tt.frame))
	}
	for _, ex := range docExamples(f) {
		f.Add([]byte(ex))
	}
	f.Add([]byte(`{"type":"message","id":"m","text":"hi \ud83d\ude00 \\ud800"}`))
	const maxFrame = 4096
	lim := protocol.Limits{MaxFrameBytes: maxFrame, MaxMessageRunes: 500}
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, err := protocol.Decode(data, lim)
		if err != nil {
			var pe *protocol.Error
			if !errors.As(err, &pe) || pe.Code == "" || pe.Message == "" {
				t.Fatalf("Decode error %v is not a protocol error with a code and a message", err)
			}
			return
		}
		if len(data) > maxFrame {
			t.Fatalf("Decode accepted a %d-byte frame over the %d-byte limit", len(data), maxFrame)
		}
		if frame == nil {
			t.Fatal("Decode returned neither a frame nor an error")
		}
		encoded, err := json.Marshal(frame)
		if err != nil {
			t.Fatalf("encode accepted frame %#v: %v", frame, err)
		}
		again, err := protocol.Decode(encoded, protocol.Limits{MaxFrameBytes: 4 * maxFrame, MaxMessageRunes: 500})
		if err != nil {
			t.Fatalf("re-decode of %s (from %q): %v", encoded, data, err)
		}
		if !reflect.DeepEqual(frame, again) {
			t.Fatalf("round trip changed the frame:\n got %#v\nwant %#v", again, frame)
		}
	})
}

// TestErrorCodesDocumented compares the error code table of
// docs/protocol.md with the codes this package sends.
func TestErrorCodesDocumented(t *testing.T) {
	codes := []string{
		protocol.CodeInvalidJSON, protocol.CodeUnsupportedFrame, protocol.CodeUnknownType,
		protocol.CodeHelloRequired, protocol.CodeUnsupportedProtocol, protocol.CodeInvalidField,
		protocol.CodeInvalidText, protocol.CodeEmptyText, protocol.CodeMessageTooLong,
		protocol.CodeFrameTooLarge, protocol.CodeUnauthorized, protocol.CodeRateLimited,
		protocol.CodeQueueFull, protocol.CodeInternal,
	}
	data, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatalf("read protocol description: %v", err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| .* \\| (yes|no) \\|$").FindAllStringSubmatch(string(data), -1)
	documented := map[string]bool{}
	for _, row := range rows {
		documented[row[1]] = true
	}
	for _, code := range codes {
		if !documented[code] {
			t.Errorf("error code %s is not in the docs/protocol.md error table", code)
		}
		delete(documented, code)
	}
	for code := range documented {
		t.Errorf("docs/protocol.md documents error code %s, which the server never sends", code)
	}
}
