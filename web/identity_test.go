package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/concierge-chat/concierge/web"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

func signToken(t *testing.T, method jwt.SigningMethod, key any, claims jwt.RegisteredClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return s
}

func TestVisitorIDKeepsHistory(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{})
	c.Ask(t, "m-1", "a wool scarf")

	other, err := web.NewIdentity(web.IdentityOptions{Secret: []byte("another-server-secret-0123456789")})
	if err != nil {
		t.Fatalf("new identity: %v", err)
	}
	_, foreign, err := other.Resolve("", "")
	if err != nil {
		t.Fatalf("issue foreign visitor id: %v", err)
	}
	parts := strings.Split(ready.VisitorID, ".")
	if len(parts) != 3 {
		t.Fatalf("visitor id %q does not have three dot-separated parts", ready.VisitorID)
	}
	flipped := []byte(parts[2])
	flipped[0] ^= 1
	tests := []struct {
		name      string
		visitorID string
		keep      bool
	}{
		{name: "issued_id", visitorID: ready.VisitorID, keep: true},
		{name: "altered_signature", visitorID: parts[0] + "." + parts[1] + "." + string(flipped)},
		{name: "altered_key", visitorID: parts[0] + "." + parts[1] + "x." + parts[2]},
		{name: "forged_unsigned", visitorID: "v1." + parts[1] + ".AAAAAAAAAAAAAAAAAAAAAA"},
		{name: "other_server_secret", visitorID: foreign},
		{name: "wrong_version", visitorID: "v2." + parts[1] + "." + parts[2]},
		{name: "garbage", visitorID: "not-a-visitor-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.Dial(t, e.URL)
			got := c.Hello(t, protocol.Hello{VisitorID: tt.visitorID})
			if tt.keep {
				if got.UserID != ready.UserID {
					t.Errorf("issued id got user %q, want %q", got.UserID, ready.UserID)
				}
				if len(got.History) != 2 {
					t.Errorf("issued id got %d history messages, want 2", len(got.History))
				}
				if got.VisitorID != ready.VisitorID {
					t.Errorf("visitor id changed to %q", got.VisitorID)
				}
				return
			}
			if got.UserID == ready.UserID {
				t.Errorf("%s visitor id %q kept user %q", tt.name, tt.visitorID, got.UserID)
			}
			if len(got.History) != 0 {
				t.Errorf("%s visitor id got %d history messages, want 0", tt.name, len(got.History))
			}
			if got.VisitorID == tt.visitorID || got.VisitorID == "" {
				t.Errorf("%s visitor id: ready.visitor_id = %q, want a newly issued id", tt.name, got.VisitorID)
			}
		})
	}
}

func TestUserTokenIdentity(t *testing.T) {
	now := time.Now()
	e := newEnv(t, envOptions{identity: web.IdentityOptions{JWTSecret: jwtSecret}})
	valid := jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}

	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{UserToken: signToken(t, jwt.SigningMethodHS256, jwtSecret, valid)})
	if ready.UserID != "u:alice" {
		t.Errorf("user_id = %q, want u:alice", ready.UserID)
	}
	if ready.VisitorID != "" {
		t.Errorf("signed user got visitor_id %q, want none", ready.VisitorID)
	}

	tests := []struct {
		name  string
		token string
	}{
		{name: "expired", token: signToken(t, jwt.SigningMethodHS256, jwtSecret,
			jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(now.Add(-time.Minute))})},
		{name: "wrong_secret", token: signToken(t, jwt.SigningMethodHS256, []byte("not-the-store-secret"), valid)},
		{name: "no_expiry", token: signToken(t, jwt.SigningMethodHS256, jwtSecret, jwt.RegisteredClaims{Subject: "alice"})},
		{name: "no_subject", token: signToken(t, jwt.SigningMethodHS256, jwtSecret,
			jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))})},
		{name: "alg_none", token: signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid)},
		{name: "hs512", token: signToken(t, jwt.SigningMethodHS512, jwtSecret, valid)},
		{name: "not_a_jwt", token: "abc.def.ghi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.Dial(t, e.URL)
			c.SendHello(t, protocol.Hello{UserToken: tt.token})
			ef := c.ReadError(t, protocol.CodeUnauthorized)
			if ef.Retryable {
				t.Error("unauthorized error is marked retryable")
			}
			// The connection stays open and a later valid hello works.
			got := c.Hello(t, protocol.Hello{})
			if !strings.HasPrefix(got.UserID, "v:") {
				t.Errorf("hello after a rejected token got user %q, want a visitor", got.UserID)
			}
		})
	}
}

func TestRequireSignedClosesWith4401(t *testing.T) {
	e := newEnv(t, envOptions{identity: web.IdentityOptions{JWTSecret: jwtSecret, RequireSigned: true}})

	c := wstest.Dial(t, e.URL)
	c.SendHello(t, protocol.Hello{})
	c.ReadError(t, protocol.CodeUnauthorized)
	if code := c.ReadClose(t); code != protocol.CloseUnauthorized {
		t.Errorf("close code = %d, want %d", code, protocol.CloseUnauthorized)
	}

	token := signToken(t, jwt.SigningMethodHS256, jwtSecret, jwt.RegisteredClaims{Subject: "bob",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))})
	ok := wstest.Dial(t, e.URL)
	if got := ok.Hello(t, protocol.Hello{UserToken: token}); got.UserID != "u:bob" {
		t.Errorf("signed hello got user %q, want u:bob", got.UserID)
	}
}

func TestUserTokenSharesHistoryAcrossDevices(t *testing.T) {
	e := newEnv(t, envOptions{identity: web.IdentityOptions{JWTSecret: jwtSecret}})
	token := signToken(t, jwt.SigningMethodHS256, jwtSecret, jwt.RegisteredClaims{Subject: "carol",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))})
	phone := wstest.Dial(t, e.URL)
	phone.Hello(t, protocol.Hello{UserToken: token, Device: "mobile"})
	phone.Ask(t, "m-1", "a wool scarf")

	laptop := wstest.Dial(t, e.URL)
	// A visitor id from another visitor does not override the token.
	other := wstest.Dial(t, e.URL)
	otherReady := other.Hello(t, protocol.Hello{})
	got := laptop.Hello(t, protocol.Hello{UserToken: token, VisitorID: otherReady.VisitorID, Device: "desktop"})
	if got.UserID != "u:carol" {
		t.Errorf("user_id = %q, want u:carol", got.UserID)
	}
	if len(got.History) != 2 {
		t.Errorf("second device got %d history messages, want 2", len(got.History))
	}
}

func TestUserTokenRejectedCases(t *testing.T) {
	valid := jwt.RegisteredClaims{Subject: "dave", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	tests := []struct {
		name     string
		identity web.IdentityOptions
		claims   jwt.RegisteredClaims
	}{
		{name: "no_jwt_secret_configured", claims: valid},
		{name: "subject_over_128_bytes", identity: web.IdentityOptions{JWTSecret: jwtSecret},
			claims: jwt.RegisteredClaims{Subject: strings.Repeat("s", 129), ExpiresAt: valid.ExpiresAt}},
		{name: "not_valid_yet", identity: web.IdentityOptions{JWTSecret: jwtSecret},
			claims: jwt.RegisteredClaims{Subject: "dave", ExpiresAt: valid.ExpiresAt,
				NotBefore: jwt.NewNumericDate(time.Now().Add(30 * time.Minute))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{identity: tt.identity, noCatalog: true})
			c := wstest.Dial(t, e.URL)
			c.SendHello(t, protocol.Hello{UserToken: signToken(t, jwt.SigningMethodHS256, jwtSecret, tt.claims)})
			c.ReadError(t, protocol.CodeUnauthorized)
		})
	}
}
