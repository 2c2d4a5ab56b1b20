package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identity issues and checks visitor ids and verifies store-signed user
// tokens. It is safe for concurrent use.
type Identity struct {
	secret        []byte
	jwtSecret     []byte
	requireSigned bool
	now           func() time.Time
}

// IdentityOptions configures NewIdentity.
type IdentityOptions struct {
	// Secret signs visitor ids; at least 16 bytes.
	Secret []byte
	// JWTSecret verifies user_token (HS256); empty rejects every token.
	JWTSecret []byte
	// RequireSigned rejects clients without a valid user_token.
	RequireSigned bool
	Now           func() time.Time
}

// NewIdentity checks opts and returns an Identity.
func NewIdentity(opts IdentityOptions) (*Identity, error) {
	if len(opts.Secret) < 16 {
		return nil, errors.New("identity secret is shorter than 16 bytes; set identity.secret or let the server generate one")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Identity{secret: opts.Secret, jwtSecret: opts.JWTSecret,
		requireSigned: opts.RequireSigned, now: opts.Now}, nil
}

// errUnauthorized is the cause of rejected identities.
var errUnauthorized = errors.New("unauthorized")

// Resolve returns the user id for a hello and the visitor id to hand back.
// A valid user_token wins; else a visitor id whose signature checks out
// keeps its user; else a fresh visitor id is issued. An invalid user_token,
// or no token while signed identity is required, is an error.
func (id *Identity) Resolve(visitorID, userToken string) (userID, newVisitorID string, err error) {
	if userToken != "" {
		sub, err := id.verifyToken(userToken)
		if err != nil {
			return "", "", err
		}
		return "u:" + sub, "", nil
	}
	if id.requireSigned {
		return "", "", fmt.Errorf("%w: a signed user_token is required", errUnauthorized)
	}
	if key, ok := id.verifyVisitor(visitorID); ok {
		return "v:" + key, visitorID, nil
	}
	key := strings.ToLower(rand.Text()[:20])
	return "v:" + key, id.signVisitor(key), nil
}

// visitorID format: "v1.<key>.<base64url HMAC-SHA256 of v1.key, 16 bytes>".
func (id *Identity) signVisitor(key string) string {
	return "v1." + key + "." + id.mac("v1."+key)
}

func (id *Identity) verifyVisitor(v string) (string, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || parts[0] != "v1" || parts[1] == "" || len(parts[1]) > 64 {
		return "", false
	}
	want := id.mac("v1." + parts[1])
	if !hmac.Equal([]byte(want), []byte(parts[2])) {
		return "", false
	}
	return parts[1], true
}

func (id *Identity) mac(s string) string {
	m := hmac.New(sha256.New, id.secret)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (id *Identity) verifyToken(token string) (string, error) {
	if len(id.jwtSecret) == 0 {
		return "", fmt.Errorf("%w: user_token sent but identity.jwt_secret is not configured", errUnauthorized)
	}
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		return id.jwtSecret, nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(id.now))
	if err != nil {
		return "", fmt.Errorf("%w: user_token: %w", errUnauthorized, err)
	}
	if claims.Subject == "" || len(claims.Subject) > 128 {
		return "", fmt.Errorf("%w: user_token has no valid sub claim", errUnauthorized)
	}
	return claims.Subject, nil
}
