package admin_test

import (
	"net/http"
	"testing"

	"github.com/concierge-chat/concierge/web/admin"
)

func TestWrongTokensLockOutAddress(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	for i := range 20 {
		if status, _ := f.doToken(t, "GET", "/api/admin/conversations", "", "wrong-token"); status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status = %d, want 401", i+1, status)
		}
	}
	status, body := f.doToken(t, "GET", "/api/admin/conversations", "", "wrong-token")
	if status != http.StatusTooManyRequests {
		t.Fatalf("21st wrong token: status = %d, want 429; body %s", status, body)
	}
	// The right token is turned away too while the address is locked out,
	// so guessing cannot go on at full speed.
	if status, _ := f.do(t, "GET", "/api/admin/conversations", ""); status != http.StatusTooManyRequests {
		t.Errorf("right token during lockout: status = %d, want 429", status)
	}
}
