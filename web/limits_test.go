package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/web"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

var retryHint = regexp.MustCompile(`retry in (\d+) s`)

func TestMessagesPerMinutePerUser(t *testing.T) {
	e := newEnv(t, envOptions{web: web.Config{MessagesPerMinute: 2}})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{})
	c.Ask(t, "m-1", "a wool scarf")
	c.Ask(t, "m-2", "waterproof boots")

	c.SendMessage(t, "m-3", "a tea set")
	ef := c.ReadError(t, protocol.CodeRateLimited)
	if !ef.Retryable {
		t.Error("rate_limited error is not retryable")
	}
	if ef.InReplyTo != "m-3" {
		t.Errorf("in_reply_to = %q, want m-3", ef.InReplyTo)
	}
	m := retryHint.FindStringSubmatch(ef.Message)
	if m == nil {
		t.Fatalf("rate_limited message %q has no retry hint", ef.Message)
	}
	// Two messages a minute refill one token every 30 s.
	if secs, _ := strconv.Atoi(m[1]); secs < 1 || secs > 31 {
		t.Errorf("retry hint = %d s, want between 1 and 31", secs)
	}

	// The limit is per user: a second connection of the same visitor is
	// limited too, and another visitor is not.
	same := wstest.Dial(t, e.URL)
	same.Hello(t, protocol.Hello{VisitorID: ready.VisitorID})
	same.SendMessage(t, "m-4", "a tea set")
	same.ReadError(t, protocol.CodeRateLimited)
	other := wstest.Dial(t, e.URL)
	other.Hello(t, protocol.Hello{})
	other.Ask(t, "o-1", "a tea set")

	if n := len(e.history(ready.UserID)); n != 4 {
		t.Errorf("stored %d messages, want 4 (rejected messages are not stored)", n)
	}
}

func TestConnectionsPerIP(t *testing.T) {
	e := newEnv(t, envOptions{web: web.Config{MaxConnsPerIP: 2}})
	wstest.Dial(t, e.URL).Hello(t, protocol.Hello{})
	wstest.Dial(t, e.URL).Hello(t, protocol.Hello{})

	_, resp, err := wstest.DialHeader(t, e.URL, nil)
	if err == nil {
		t.Fatal("third connection from one address was upgraded, want 429")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection: response %v, error %v; want status 429", resp, err)
	}
}

func TestOriginCheck(t *testing.T) {
	tests := []struct {
		name   string
		cfg    web.Config
		origin string
		status int // zero means the upgrade succeeds
	}{
		{name: "allowed", cfg: web.Config{AllowedOrigins: []string{"https://shop.example"}},
			origin: "https://shop.example"},
		{name: "allowed_trailing_slash_config", cfg: web.Config{AllowedOrigins: []string{"https://shop.example/"}},
			origin: "https://shop.example"},
		{name: "disallowed", cfg: web.Config{AllowedOrigins: []string{"https://shop.example"}},
			origin: "https://evil.example", status: http.StatusForbidden},
		{name: "lookalike_port", cfg: web.Config{AllowedOrigins: []string{"https://shop.example"}},
			origin: "https://shop.example:8443", status: http.StatusForbidden},
		{name: "no_origin", cfg: web.Config{AllowedOrigins: []string{"https://shop.example"}}},
		{name: "no_origin_required", cfg: web.Config{AllowedOrigins: []string{"https://shop.example"}, RequireOrigin: true},
			status: http.StatusForbidden},
		{name: "any_origin", cfg: web.Config{AllowedOrigins: []string{"*"}}, origin: "https://anyone.example"},
		{name: "default_other_host", origin: "https://evil.example", status: http.StatusForbidden},
		{name: "default_same_host", origin: "same-host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{web: tt.cfg, noCatalog: true})
			header := http.Header{}
			switch tt.origin {
			case "":
			case "same-host":
				header.Set("Origin", e.URL)
			default:
				header.Set("Origin", tt.origin)
			}
			c, resp, err := wstest.DialHeader(t, e.URL, header)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("upgrade with origin %q failed: %v", tt.origin, err)
				}
				c.Hello(t, protocol.Hello{})
				return
			}
			if err == nil {
				t.Fatalf("origin %q was upgraded, want status %d", tt.origin, tt.status)
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("origin %q: response %v, error %v; want status %d", tt.origin, resp, err, tt.status)
			}
		})
	}
}

func TestMessagesPerMinutePerIP(t *testing.T) {
	e := newEnv(t, envOptions{web: web.Config{MessagesPerMinutePerIP: 2}})
	first := wstest.Dial(t, e.URL)
	first.Hello(t, protocol.Hello{})
	first.Ask(t, "a-1", "a wool scarf")
	first.Ask(t, "a-2", "a tea set")

	// Another visitor from the same loopback address shares the budget.
	second := wstest.Dial(t, e.URL)
	second.Hello(t, protocol.Hello{})
	second.SendMessage(t, "b-1", "waterproof boots")
	ef := second.ReadError(t, protocol.CodeRateLimited)
	if ef.InReplyTo != "b-1" {
		t.Errorf("in_reply_to = %q, want b-1", ef.InReplyTo)
	}
	if !retryHint.MatchString(ef.Message) {
		t.Errorf("rate_limited message %q has no retry hint", ef.Message)
	}
}

// TestEventsPerMinutePerUser floods events: past the per-user limit they
// are rejected and not stored, so a client cannot fill the store.
func TestEventsPerMinutePerUser(t *testing.T) {
	e := newEnv(t, envOptions{web: web.Config{EventsPerMinute: 5}, noCatalog: true})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{})
	for range 5 {
		checkAlive(t, c, "within the event limit")
	}
	c.Send(t, pageView)
	ef := c.ReadError(t, protocol.CodeRateLimited)
	if !ef.Retryable || !retryHint.MatchString(ef.Message) {
		t.Errorf("rate_limited event error = %+v, want retryable with a retry hint", ef)
	}
	stored, err := e.store.Events(context.Background(), ready.UserID, time.Time{})
	if err != nil {
		t.Fatalf("load events: %v", err)
	}
	if len(stored) != 5 {
		t.Errorf("stored %d events, want the 5 within the limit", len(stored))
	}
	// Messages have their own budget.
	c.Ask(t, "m-1", "a wool scarf")
}
