package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error codes sent in error frames. docs/protocol.md explains each.
const (
	CodeInvalidJSON         = "invalid_json"
	CodeUnsupportedFrame    = "unsupported_frame"
	CodeUnknownType         = "unknown_type"
	CodeHelloRequired       = "hello_required"
	CodeUnsupportedProtocol = "unsupported_protocol"
	CodeInvalidField        = "invalid_field"
	CodeInvalidText         = "invalid_text"
	CodeEmptyText           = "empty_text"
	CodeMessageTooLong      = "message_too_long"
	CodeFrameTooLarge       = "frame_too_large"
	CodeUnauthorized        = "unauthorized"
	CodeRateLimited         = "rate_limited"
	CodeQueueFull           = "queue_full"
	CodeInternal            = "internal"
)

// Close codes beyond the standard ones (1000, 1001, 1008, 1009).
const (
	CloseUnauthorized = 4401 // hello rejected while signed identity is required
)

// Error is a protocol error: a code and a message safe to show the client,
// whether the client may retry, and the internal cause for the log.
type Error struct {
	Code      string
	Message   string
	Retryable bool
	Cause     error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Frame returns the error frame for e.
func (e *Error) Frame(inReplyTo string) ErrorFrame {
	return ErrorFrame{Type: TypeError, Code: e.Code, Message: e.Message,
		Retryable: e.Retryable, InReplyTo: inReplyTo}
}

// ErrFrameTooLarge is the cause of frame_too_large errors.
var ErrFrameTooLarge = errors.New("frame too large")

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits bound what Decode accepts.
type Limits struct {
	MaxFrameBytes   int // zero means 65,536
	MaxMessageRunes int // zero means 2,000
}

// Decode parses one client text frame into *Hello, *Message or *Event. It
// returns a *Error for anything it rejects.
func Decode(data []byte, lim Limits) (any, error) {
	if lim.MaxFrameBytes <= 0 {
		lim.MaxFrameBytes = 65536
	}
	if lim.MaxMessageRunes <= 0 {
		lim.MaxMessageRunes = 2000
	}
	if len(data) > lim.MaxFrameBytes {
		return nil, &Error{Code: CodeFrameTooLarge, Cause: ErrFrameTooLarge,
			Message: fmt.Sprintf("frame is %d bytes; the limit is %d", len(data), lim.MaxFrameBytes)}
	}
	if !utf8.Valid(data) {
		return nil, errorf(CodeInvalidJSON, "frame is not valid UTF-8")
	}
	if hasLoneSurrogate(data) {
		return nil, errorf(CodeInvalidText, "frame contains an unpaired UTF-16 surrogate escape; send valid Unicode text")
	}
	// encoding/json decodes null into a struct without an error, so check
	// for an object before reading its type.
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errorf(CodeInvalidJSON, "frame is not a JSON object; send one object with a type field")
	}

	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, &Error{Code: CodeInvalidJSON, Message: "frame is not a JSON object with a string type field", Cause: err}
	}
	switch head.Type {
	case TypeHello:
		var h Hello
		if err := unmarshal(data, &h); err != nil {
			return nil, err
		}
		if h.Protocol != Version {
			return nil, errorf(CodeUnsupportedProtocol, "protocol %d is not supported; send protocol 1", h.Protocol)
		}
		return &h, validateHello(&h)
	case TypeMessage:
		var m Message
		if err := unmarshal(data, &m); err != nil {
			return nil, err
		}
		return &m, validateMessage(&m, lim)
	case TypeEvent:
		var ev Event
		if err := unmarshal(data, &ev); err != nil {
			return nil, err
		}
		return &ev, validateEvent(&ev)
	case "":
		return nil, errorf(CodeUnknownType, "frame has no type; use hello, message or event")
	default:
		return nil, errorf(CodeUnknownType, "frame type %q is unknown; use hello, message or event", clipForMessage(head.Type))
	}
}

func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Error{Code: CodeInvalidField, Cause: err,
				Message: fmt.Sprintf("field %s must be %s, not %s", te.Field, jsonKind(te.Type.Kind()), te.Value)}
		}
		return &Error{Code: CodeInvalidJSON, Message: "frame is not valid JSON", Cause: err}
	}
	return nil
}

// jsonKind names a Go kind as a JSON type, for messages to integrators.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

func validateMessage(m *Message, lim Limits) error {
	if m.ID == "" {
		return errorf(CodeInvalidField, "message id is missing; send a unique id so retries are answered once")
	}
	if len(m.ID) > 64 {
		return errorf(CodeInvalidField, "message id is %d bytes; the limit is 64", len(m.ID))
	}
	if strings.TrimSpace(m.Text) == "" {
		return &Error{Code: CodeEmptyText, Message: "message text is empty"}
	}
	if n := utf8.RuneCountInString(m.Text); n > lim.MaxMessageRunes {
		return errorf(CodeMessageTooLong, "message text is %d characters; the limit is %d", n, lim.MaxMessageRunes)
	}
	for _, r := range m.Text {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return errorf(CodeInvalidText, "message text contains control character U+%04X; remove it", r)
		}
	}
	return nil
}

// Byte limits of the string fields other than message text. Hello fields
// reach the stored profile and the scenario, and event fields are stored
// with each event, so each is bounded well below the frame limit.
const (
	maxIDBytes    = 128  // product, offer and turn ids, geo fields
	maxNameBytes  = 256  // category paths, visitor ids
	maxShortBytes = 64   // locale, timezone, device, page kind
	maxURLBytes   = 8192 // page URLs, which tracking parameters can make long
	maxTokenBytes = 4096 // user_token
)

type fieldLimit struct {
	name  string
	value string
	max   int
}

// checkLengths returns an invalid_field error for the first field longer
// than its limit.
func checkLengths(fields []fieldLimit) error {
	for _, f := range fields {
		if len(f.value) > f.max {
			return errorf(CodeInvalidField, "field %s is %d bytes; the limit is %d", f.name, len(f.value), f.max)
		}
	}
	return nil
}

func pageLimits(prefix string, p Page) []fieldLimit {
	return []fieldLimit{
		{prefix + ".kind", p.Kind, maxShortBytes},
		{prefix + ".url", p.URL, maxURLBytes},
		{prefix + ".product_id", p.ProductID, maxIDBytes},
	}
}

func validateHello(h *Hello) error {
	fields := []fieldLimit{
		{"visitor_id", h.VisitorID, maxNameBytes},
		{"user_token", h.UserToken, maxTokenBytes},
		{"locale", h.Locale, maxShortBytes},
		{"timezone", h.Timezone, maxShortBytes},
		{"device", h.Device, maxShortBytes},
		{"geo.country", h.Geo.Country, maxIDBytes},
		{"geo.region", h.Geo.Region, maxIDBytes},
		{"geo.city", h.Geo.City, maxIDBytes},
	}
	return checkLengths(append(fields, pageLimits("page", h.Page)...))
}

func validateEvent(ev *Event) error {
	fields := []fieldLimit{
		{"product_id", ev.ProductID, maxIDBytes},
		{"category", ev.Category, maxNameBytes},
		{"offer_id", ev.OfferID, maxIDBytes},
		{"turn_id", ev.TurnID, maxIDBytes},
	}
	if ev.Page != nil {
		fields = append(fields, pageLimits("page", *ev.Page)...)
	}
	if err := checkLengths(fields); err != nil {
		return err
	}
	if !slices.Contains(EventNames, ev.Name) {
		return errorf(CodeInvalidField, "event name %q is unknown; use one of %s",
			clipForMessage(ev.Name), strings.Join(EventNames, ", "))
	}
	if ev.Name == "feedback" && ev.Rating != 1 && ev.Rating != -1 {
		return errorf(CodeInvalidField, "feedback rating %d is invalid; use 1 or -1", ev.Rating)
	}
	if ev.Value < 0 {
		return errorf(CodeInvalidField, "event value %g is negative", ev.Value)
	}
	return nil
}

// hasLoneSurrogate reports whether data holds a \uD800-\uDFFF escape that
// is not part of a high-low pair. encoding/json would quietly turn it into
// U+FFFD, which would store text the client never meant.
func hasLoneSurrogate(data []byte) bool {
	for i := 0; i+6 <= len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if data[i+1] == '\\' {
			i++
			continue
		}
		if data[i+1] != 'u' {
			continue
		}
		r, ok := hex4(data[i+2 : i+6])
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(data) || !bytes.HasPrefix(data[i+6:], []byte(`\u`)) {
				return true
			}
			lo, ok := hex4(data[i+8 : i+12])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func clipForMessage(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
