package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

// get fetches url and returns the status, the Content-Type and the body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	var ready atomic.Bool
	e := newEnv(t, envOptions{ready: ready.Load})

	if status, _, _ := get(t, e.URL+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz status = %d, want 200", status)
	}
	if status, _, body := get(t, e.URL+"/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the index loads = %d %q, want 503", status, body)
	}
	ready.Store(true)
	if status, _, _ := get(t, e.URL+"/readyz"); status != http.StatusOK {
		t.Errorf("/readyz after the index loads = %d, want 200", status)
	}
}

func TestMetricsCountTurns(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, _, before := get(t, e.URL+"/metrics")
	if strings.Contains(before, `concierge_turns_total{outcome="answered"}`) {
		t.Fatal("metrics count an answered turn before any turn ran")
	}
	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{})
	c.Ask(t, "m-1", "a wool scarf")
	c.SendRaw(t, websocket.TextMessage, []byte("not json"))
	c.ReadError(t, protocol.CodeInvalidJSON)

	status, _, body := get(t, e.URL+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics status = %d", status)
	}
	for _, want := range []string{
		`concierge_turns_total{outcome="answered"} 1`,
		`concierge_llm_replies_total{provider="offline"} 1`,
		`concierge_connections 1`,
		`concierge_frames_rejected_total{code="invalid_json"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestCatalogAndImageRoutes(t *testing.T) {
	e := newEnv(t, envOptions{})

	status, ctype, body := get(t, e.URL+"/api/products?lang=zh&category=Home")
	if status != http.StatusOK || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("/api/products = %d %s", status, ctype)
	}
	var list bot.ProductList
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("decode product list %s: %v", body, err)
	}
	if list.Total != 3 || len(list.Products) != 3 {
		t.Errorf("Home category lists %d of %d products, want 3 of 3", len(list.Products), list.Total)
	}
	if len(list.Categories) != 4 {
		t.Errorf("categories = %v, want the 4 top-level categories", list.Categories)
	}
	for _, p := range list.Products {
		if p.ID == "tea-set" && p.Title != "青瓷功夫茶具套装" {
			t.Errorf("tea-set title in zh = %q, want the Chinese title", p.Title)
		}
	}

	tests := []struct {
		name   string
		path   string
		status int
		ctype  string
		marker string
	}{
		{name: "product_image", path: "/img/products/trail-boot.svg", status: http.StatusOK,
			ctype: "image/svg+xml", marker: "<svg"},
		{name: "unknown_product_image", path: "/img/products/no-such-product.svg", status: http.StatusNotFound},
		{name: "image_without_svg_suffix", path: "/img/products/trail-boot.png", status: http.StatusNotFound},
		{name: "offer_banner", path: "/api/offers/welcome10/banner.svg?lang=en&scenario=browsing",
			status: http.StatusOK, ctype: "image/svg+xml", marker: "WELCOME10"},
		{name: "unknown_offer_banner", path: "/api/offers/nope/banner.svg", status: http.StatusNotFound},
		{name: "demo_page", path: "/", status: http.StatusOK, ctype: "text/html", marker: "widget.js"},
		{name: "product_page", path: "/products/trail-boot", status: http.StatusOK, ctype: "text/html"},
		{name: "widget_script", path: "/widget.js", status: http.StatusOK, ctype: "text/javascript"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := get(t, e.URL+tt.path)
			if status != tt.status {
				t.Fatalf("GET %s status = %d, want %d", tt.path, status, tt.status)
			}
			if tt.ctype != "" && !strings.HasPrefix(ctype, tt.ctype) {
				t.Errorf("GET %s Content-Type = %q, want %s", tt.path, ctype, tt.ctype)
			}
			if tt.marker != "" && !strings.Contains(body, tt.marker) {
				t.Errorf("GET %s body lacks %q", tt.path, tt.marker)
			}
		})
	}
}
