package wstest

import "testing"

func TestWSURL(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{in: "http://127.0.0.1:8080", want: "ws://127.0.0.1:8080/ws"},
		{in: "https://shop.example", want: "wss://shop.example/ws"},
		{in: "ws://127.0.0.1:9/custom", want: "ws://127.0.0.1:9/custom"},
		{in: "wss://shop.example/ws", want: "wss://shop.example/ws"},
	}
	for _, tt := range tests {
		if got := WSURL(tt.in); got != tt.want {
			t.Errorf("WSURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
