package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/concierge-chat/concierge/web/static"
)

var updateScreenshots = flag.Bool("update-screenshots", false,
	"write the widget screenshots to docs/screenshots")

// screenshotDir returns where to write screenshots, or "" to write none.
// CONCIERGE_SCREENSHOTS names a directory relative to the module root.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONCIERGE_SCREENSHOTS")
	if dir == "" && *updateScreenshots {
		dir = "docs/screenshots"
	}
	if dir == "" {
		return ""
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(t), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create screenshot directory: %v", err)
	}
	return dir
}

// moduleRoot walks up from the test's working directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// chromiumPath returns the browser binary from CHROMIUM or the usual
// install paths, and skips the test when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests take several seconds; skipped with -short")
	}
	if path := os.Getenv("CHROMIUM"); path != "" {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("CHROMIUM=%s: %v", path, err)
		}
		return path
	}
	for _, path := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	t.Skip("no Chromium found at /usr/bin/chromium, /usr/bin/chromium-browser or /usr/bin/google-chrome; " +
		"install the chromium package or set CHROMIUM to the browser binary")
	return ""
}

// testJS is installed in every page before its scripts run. It gives the
// test short names for the widget's shadow root and frame logs, and records
// the text of streaming bubbles on every change.
const testJS = `
window.__t = {
  root() { const h = document.querySelector('concierge-widget'); return h ? h.shadowRoot : null; },
  q(sel) { const r = this.root(); return r ? r.querySelector(sel) : null; },
  qa(sel) { const r = this.root(); return r ? Array.from(r.querySelectorAll(sel)) : []; },
  sent(type, name) { return (window.__conciergeSent || []).filter(f => f.type === type && (!name || f.name === name)); },
  recv(type, name) { return (window.__conciergeReceived || []).filter(f => f.type === type && (!name || f.name === name)); },
  seqs() { return this.qa('.msg[data-seq]').map(n => Number(n.dataset.seq)); },
  duplicateSeqs() { const s = this.seqs(); return s.filter((v, i) => s.indexOf(v) !== i); },
  lastBot() { const rows = this.qa('.row.bot:not(.greeting)'); return rows[rows.length - 1] || null; },
  streamed: [],
  watch() {
    const log = this.q('.log');
    new MutationObserver(() => {
      for (const b of log.querySelectorAll('.streaming .bubble')) this.streamed.push(b.textContent);
    }).observe(log, {subtree: true, childList: true, characterData: true});
  },
};
`

// browser starts a headless Chromium with a fresh profile and returns a
// tab context. The browser stops at test cleanup.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})

	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: testJS})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("start browser: %v", err)
	}
	return ctx
}

// evaluate runs a JavaScript expression and decodes its value into T.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(callCtx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a boolean JavaScript expression every 25 ms until it is
// true. On timeout it fails with the condition and the value of debug.
func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, condition, expr, debug string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(callCtx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state := ""
			if debug != "" {
				state = evaluate[string](t, ctx, "JSON.stringify("+debug+")")
			}
			t.Fatalf("timed out after %v waiting for %s (last error: %v); state: %s", timeout, condition, err, state)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// navigate opens a URL and waits for the widget to be ready.
func navigate(t *testing.T, ctx context.Context, pageURL string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("navigate to %s: %v", pageURL, err)
	}
	waitFor(t, ctx, 15*time.Second, "the widget's ready frame",
		`__t.root() && __t.recv('ready').length > 0`, `(window.__conciergeReceived || []).map(f => f.type)`)
}

// openWidget clicks the launcher and starts recording streamed text.
func openWidget(t *testing.T, ctx context.Context) {
	t.Helper()
	evaluate[chromedp.Void](t, ctx, `__t.q('.launcher').click()`)
	waitFor(t, ctx, 5*time.Second, "the open panel", `!__t.q('.panel').hidden`, "")
	evaluate[chromedp.Void](t, ctx, `__t.watch()`)
}

// typeMessage focuses the widget's input, types text as an input method
// would and presses Enter.
func typeMessage(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	evaluate[chromedp.Void](t, ctx, `__t.q('textarea').focus()`)
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
		pressEnter(),
	)
	if err != nil {
		t.Fatalf("type %q: %v", text, err)
	}
}

// pressEnter sends Enter as a keyboard does: one keydown carrying the text
// "\r", so preventDefault on keydown also stops the line break.
// chromedp.KeyEvent sends the text in a separate char event instead, which
// inserts the line break even when keydown was cancelled.
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r"}
		if _, err := cdp.Call(ctx, target, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		_, err := cdp.Call(ctx, target, input.DispatchKeyEvent, up)
		return err
	})
}

// sendAndWait types a message and waits for the next reply.end frame.
func sendAndWait(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	before := evaluate[int](t, ctx, `__t.recv('reply.end').length`)
	typeMessage(t, ctx, text)
	waitFor(t, ctx, 20*time.Second, fmt.Sprintf("a reply to %q", text),
		fmt.Sprintf(`__t.recv('reply.end').length > %d`, before),
		`(window.__conciergeReceived || []).slice(-5)`)
}

// checkNoDuplicateSeqs fails when two message rows carry one seq.
func checkNoDuplicateSeqs(t *testing.T, ctx context.Context) {
	t.Helper()
	if dup := evaluate[[]int](t, ctx, `__t.duplicateSeqs()`); len(dup) > 0 {
		t.Errorf("message rows repeat seq %v; all seqs: %v", dup, evaluate[[]int](t, ctx, `__t.seqs()`))
	}
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	// Start the view at the shopper's last question, so the picture shows the
	// question, the reply and its cards rather than only the last card.
	evaluate[chromedp.Void](t, ctx, `(() => {
		const log = __t.q('.log'), rows = __t.qa('.row.user');
		if (!rows.length) return;
		const row = rows[rows.length - 1];
		log.style.scrollBehavior = 'auto';
		log.scrollTop += row.getBoundingClientRect().top - log.getBoundingClientRect().top - 12;
	})()`)
	waitFor(t, ctx, 5*time.Second, "visible images to load", `(() => {
		const visible = i => { const r = i.getBoundingClientRect();
			return r.width > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth; };
		return __t.qa('img').concat(Array.from(document.images)).every(i => i.complete || !visible(i));
	})()`, "")
	time.Sleep(300 * time.Millisecond) // NOTE: decoded images paint on a later frame, with no event to wait on
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("capture %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}

// ---------------------------------------------------------------- fake server

// fakeChat is a scripted WebSocket server speaking protocol v1, so the
// widget's handling of rare frames (handover, errors, drops mid-reply) can
// be checked without the real bot.
type fakeChat struct {
	t *testing.T

	mu sync.Mutex
	// guarded by mu:
	seq      int
	history  []map[string]any
	answered map[string]bool // message ids whose reply is stored
	stored   map[string]bool // message ids whose user message is stored
	messages []map[string]any
	events   []map[string]any
	hellos   []map[string]any
	visitors int
	dropMode string // "", "before_store" or "after_store": how the next reply is cut off
}

func newFakeChat(t *testing.T) *fakeChat {
	return &fakeChat{t: t, answered: map[string]bool{}, stored: map[string]bool{}}
}

func (f *fakeChat) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", serveAsset("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /products/{id}", serveAsset("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /widget.js", serveAsset("widget.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /api/products", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"products": fakeProducts, "categories": []string{"Footwear", "Tea"}})
	})
	mux.HandleFunc("GET /img/products/{file}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		id := strings.TrimSuffix(r.PathValue("file"), ".svg")
		static.RenderProductImage(w, static.ProductImageInput{ID: id, Title: id, Category: "Footwear", Price: 129, Currency: "USD"})
	})
	mux.HandleFunc("GET /api/offers/{id}/banner.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		static.RenderBanner(w, static.BannerInput{OfferID: r.PathValue("id"), Title: "Welcome", Kind: "percentage", Value: 10, Lang: "en"})
	})
	mux.HandleFunc("GET /ws", f.serveWS)
	return mux
}

func serveAsset(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := static.Assets.ReadFile(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(data)
	}
}

var fakeProducts = []map[string]any{
	{"id": "trail-boot", "title": "Trail Waterproof Boot", "category": "Footwear", "price": 129.0,
		"compare_at_price": 159.0, "currency": "USD", "in_stock": true,
		"image": "/img/products/trail-boot.svg", "url": "/products/trail-boot"},
	{"id": "city-boot", "title": "City <b>Boot</b>", "category": "Footwear", "price": 99.5,
		"currency": "USD", "in_stock": false, "image": "/img/products/city-boot.svg", "url": "/products/city-boot"},
}

var fakeUpgrader = websocket.Upgrader{
	CheckOrigin: func(r *http.Request) bool {
		origin, err := url.Parse(r.Header.Get("Origin"))
		return err == nil && origin.Host == r.Host
	},
}

func (f *fakeChat) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := fakeUpgrader.Upgrade(w, r, nil)
	if err != nil {
		f.t.Errorf("fake server: upgrade: %v", err)
		return
	}
	defer conn.Close()
	for {
		var frame map[string]any
		if err := conn.ReadJSON(&frame); err != nil {
			return
		}
		var keepOpen bool
		switch frame["type"] {
		case "hello":
			keepOpen = f.hello(conn, frame)
		case "message":
			keepOpen = f.message(conn, frame)
		case "event":
			f.mu.Lock()
			f.events = append(f.events, frame)
			f.mu.Unlock()
			keepOpen = conn.WriteJSON(map[string]any{"type": "event.ack", "name": frame["name"]}) == nil
		default:
			keepOpen = true
		}
		if !keepOpen {
			return
		}
	}
}

func (f *fakeChat) hello(conn *websocket.Conn, frame map[string]any) bool {
	f.mu.Lock()
	f.hellos = append(f.hellos, frame)
	visitor, _ := frame["visitor_id"].(string)
	if visitor == "" {
		f.visitors++
		visitor = fmt.Sprintf("v-test-%d", f.visitors)
	}
	resume, _ := frame["resume_after"].(float64)
	history := []map[string]any{}
	if visitor == "v-test-1" { // the fake keeps one conversation, the first visitor's
		for _, item := range f.history {
			if item["seq"].(int) > int(resume) {
				history = append(history, item)
			}
		}
	}
	f.mu.Unlock()
	return conn.WriteJSON(map[string]any{
		"type": "ready", "protocol": 1, "visitor_id": visitor, "user_id": "u:" + visitor,
		"conversation_id": "c-test", "handed_over": false, "history": history,
	}) == nil
}

// storeLocked appends a message to the history and returns its seq.
func (f *fakeChat) storeLocked(item map[string]any) int {
	f.seq++
	item["seq"] = f.seq
	item["time"] = time.Now().UTC().Format(time.RFC3339)
	f.history = append(f.history, item)
	return f.seq
}

// message answers one shopper message. It returns false after closing the
// connection on purpose.
func (f *fakeChat) message(conn *websocket.Conn, frame map[string]any) bool {
	id, _ := frame["id"].(string)
	text, _ := frame["text"].(string)

	if text == "rate me" {
		return conn.WriteJSON(map[string]any{"type": "error", "code": "rate_limited",
			"message": "too many messages; retry in 20 s", "retryable": true, "in_reply_to": id}) == nil
	}

	f.mu.Lock()
	f.messages = append(f.messages, frame)
	if f.answered[id] {
		f.mu.Unlock()
		return true // the protocol answers each id once
	}
	userSeq := 0
	if !f.stored[id] {
		f.stored[id] = true
		userSeq = f.storeLocked(map[string]any{"role": "user", "text": text})
	}
	mode := f.dropMode
	f.dropMode = ""
	f.mu.Unlock()

	if text == "agent please" {
		return f.agentTakeover(conn)
	}

	turnID := fmt.Sprintf("t-%s-%d", id, len(f.messages))
	reply := fakeReply(text)
	writes := []map[string]any{{"type": "reply.start", "turn_id": turnID, "in_reply_to": id, "user_seq": userSeq}}
	for _, chunk := range chunks(reply["text"].(string), 6) {
		writes = append(writes, map[string]any{"type": "reply.delta", "turn_id": turnID, "text": chunk})
	}
	for i, w := range writes {
		if err := conn.WriteJSON(w); err != nil {
			return false
		}
		if mode == "before_store" && i == 3 {
			return false // crash before the reply is stored: the client must resend
		}
		time.Sleep(40 * time.Millisecond)
	}

	f.mu.Lock()
	end := map[string]any{"role": "assistant", "text": reply["text"], "turn_id": turnID, "products": reply["products"]}
	seq := f.storeLocked(end)
	f.answered[id] = true
	f.mu.Unlock()
	if mode == "after_store" {
		return false // stored but reply.end never sent: the history must complete it
	}

	reply["type"] = "reply.end"
	reply["turn_id"] = turnID
	reply["in_reply_to"] = id
	reply["seq"] = seq
	return conn.WriteJSON(reply) == nil
}

func (f *fakeChat) agentTakeover(conn *websocket.Conn) bool {
	f.mu.Lock()
	seq := f.storeLocked(map[string]any{"role": "agent", "text": "Hi, I'm **Lin**. Let me check.", "agent": "Lin"})
	f.mu.Unlock()
	frames := []map[string]any{
		{"type": "handover", "state": "agent", "agent": "Lin"},
		{"type": "typing", "role": "agent"},
		{"type": "agent.message", "seq": seq, "text": "Hi, I'm **Lin**. Let me check.", "agent": "Lin",
			"time": time.Now().UTC().Format(time.RFC3339)},
		{"type": "handover", "state": "bot"},
	}
	for _, frame := range frames {
		if err := conn.WriteJSON(frame); err != nil {
			return false
		}
	}
	return true
}

// fakeReply returns the reply.end fields for a shopper's text.
func fakeReply(text string) map[string]any {
	if text == "markdown" {
		return map[string]any{
			"text": "Here is **bold** and *soft* text with `CODE1`.\n- first item\n- second item\n\n" +
				"[safe link](/products/trail-boot) [bad link](javascript:window.__pwned=2) " +
				"<img src=x onerror=\"window.__pwned=3\">",
			"products": []any{}, "offer": nil, "quick_replies": []string{},
		}
	}
	return map[string]any{
		"text":     "Good evening! These boots fit your budget and keep water out on wet trails.",
		"products": fakeProducts,
		"offer": map[string]any{"id": "welcome10", "title": "10% off your first order",
			"copy": "New here? Take 10% off today.", "code": "WELCOME10", "kind": "percentage",
			"banner_url": "/api/offers/welcome10/banner.svg?lang=en&scenario=browsing"},
		"scenario":      map[string]any{"label": "bargain_hunting"},
		"quick_replies": []string{"Show cheaper ones", "Any in black?"},
		"relaxed":       false,
	}
}

// chunks splits s into about n pieces at rune boundaries.
func chunks(s string, n int) []string {
	runes := []rune(s)
	size := (len(runes) + n - 1) / n
	var out []string
	for len(runes) > 0 {
		k := min(size, len(runes))
		out = append(out, string(runes[:k]))
		runes = runes[k:]
	}
	return out
}

func (f *fakeChat) messageIDs(text string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, m := range f.messages {
		if m["text"] == text {
			ids = append(ids, m["id"].(string))
		}
	}
	return ids
}

func (f *fakeChat) lastHello() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hellos[len(f.hellos)-1]
}

func (f *fakeChat) setDropMode(mode string) {
	f.mu.Lock()
	f.dropMode = mode
	f.mu.Unlock()
}

// ---------------------------------------------------------------- fake tests

func TestWidgetWithFakeServer(t *testing.T) {
	chromiumPath(t)
	fake := newFakeChat(t)
	srv := httptest.NewServer(fake.handler())
	t.Cleanup(srv.Close)
	ctx := browser(t, 1280, 800)
	navigate(t, ctx, srv.URL+"/?debug=1&lang=en")

	t.Run("keyboard_open_and_close", func(t *testing.T) {
		evaluate[chromedp.Void](t, ctx, `__t.q('.launcher').focus()`)
		if err := chromedp.Do(ctx, pressEnter()); err != nil {
			t.Fatalf("press Enter on launcher: %v", err)
		}
		waitFor(t, ctx, 3*time.Second, "focus in the input after opening",
			`__t.root().activeElement === __t.q('textarea')`, `String(__t.root().activeElement)`)
		if got := evaluate[string](t, ctx, `__t.q('.launcher').getAttribute('aria-expanded')`); got != "true" {
			t.Errorf("launcher aria-expanded = %q after opening, want true", got)
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\x1b")); err != nil { // Escape
			t.Fatalf("press Escape: %v", err)
		}
		waitFor(t, ctx, 3*time.Second, "the panel to close on Escape", `__t.q('.panel').hidden`, "")
		if !evaluate[bool](t, ctx, `__t.root().activeElement === __t.q('.launcher')`) {
			t.Error("focus did not return to the launcher after Escape")
		}
		roles := evaluate[[]string](t, ctx,
			`[__t.q('.panel').getAttribute('role'), __t.q('.log').getAttribute('role'), __t.q('.log').getAttribute('aria-live')]`)
		if strings.Join(roles, ",") != "dialog,log,polite" {
			t.Errorf("panel role, log role, aria-live = %v, want dialog, log, polite", roles)
		}
	})

	openWidget(t, ctx)

	t.Run("streams_cards_offer", func(t *testing.T) {
		sendAndWait(t, ctx, "boots under 150")
		if got := evaluate[string](t, ctx, `__t.q('textarea').value`); got != "" {
			t.Errorf("input value after Enter = %q, want empty", got)
		}
		final := evaluate[string](t, ctx, `__t.lastBot().querySelector('.bubble').textContent`)
		want := "Good evening! These boots fit your budget and keep water out on wet trails."
		if final != want {
			t.Errorf("final reply text = %q, want %q", final, want)
		}
		partial := evaluate[[]string](t, ctx, `__t.streamed.filter(s => s.length > 0 && s.length < `+fmt.Sprint(len(want))+`)`)
		if len(partial) == 0 {
			t.Error("no intermediate streaming state was observed")
		}
		cards := evaluate[[]string](t, ctx, `Array.from(__t.lastBot().querySelectorAll('.card')).map(c => c.textContent)`)
		if len(cards) != 2 {
			t.Fatalf("product cards = %q, want 2", cards)
		}
		if !strings.Contains(cards[0], "$129") || !strings.Contains(cards[0], "$159") {
			t.Errorf("first card = %q, want price $129 and compare-at $159", cards[0])
		}
		if !strings.Contains(cards[1], "City <b>Boot</b>") || !strings.Contains(cards[1], "Out of stock") {
			t.Errorf("second card = %q, want the literal title and Out of stock", cards[1])
		}
		if n := evaluate[int](t, ctx, `__t.lastBot().querySelectorAll('.card b').length`); n != 0 {
			t.Errorf("card title produced %d <b> elements, want text only", n)
		}
		struck := evaluate[string](t, ctx, `(__t.lastBot().querySelector('.card s') || {}).textContent || ''`)
		if struck != "$159" {
			t.Errorf("struck-through price = %q, want $159", struck)
		}
		banner := evaluate[string](t, ctx, `__t.lastBot().querySelector('.offer img').src`)
		if !strings.HasPrefix(banner, srv.URL+"/api/offers/welcome10/banner.svg") {
			t.Errorf("banner src = %q, want it on the server %s", banner, srv.URL)
		}
		quick := evaluate[[]string](t, ctx, `__t.qa('.quick button').map(b => b.textContent)`)
		if strings.Join(quick, "|") != "Show cheaper ones|Any in black?" {
			t.Errorf("quick replies = %q", quick)
		}
	})

	t.Run("offer_click_and_feedback", func(t *testing.T) {
		evaluate[chromedp.Void](t, ctx, `__t.lastBot().querySelector('.offer .code').click()`)
		evaluate[chromedp.Void](t, ctx, `__t.lastBot().querySelector('.offer').click()`)
		waitFor(t, ctx, 5*time.Second, "the offer_click ack", `__t.recv('event.ack', 'offer_click').length > 0`, "")
		clicks := evaluate[[]map[string]any](t, ctx, `__t.sent('event', 'offer_click')`)
		if len(clicks) != 1 {
			t.Errorf("offer_click sent %d times for one offer, want once: %v", len(clicks), clicks)
		} else if clicks[0]["offer_id"] != "welcome10" || !strings.HasPrefix(fmt.Sprint(clicks[0]["turn_id"]), "t-") {
			t.Errorf("offer_click frame = %v, want offer_id welcome10 and the turn id", clicks[0])
		}

		evaluate[chromedp.Void](t, ctx, `__t.lastBot().querySelector('[data-rating="-1"]').click()`)
		waitFor(t, ctx, 5*time.Second, "the feedback ack", `__t.recv('event.ack', 'feedback').length > 0`, "")
		pressed := evaluate[[]string](t, ctx,
			`Array.from(__t.lastBot().querySelectorAll('.feedback button')).map(b => b.getAttribute('aria-pressed'))`)
		if strings.Join(pressed, ",") != "false,true" {
			t.Errorf("thumbs aria-pressed = %v after thumbs down, want false,true", pressed)
		}
		rating := evaluate[float64](t, ctx, `__t.sent('event', 'feedback')[0].rating`)
		if rating != -1 {
			t.Errorf("feedback rating = %v, want -1", rating)
		}
	})

	t.Run("quick_reply_sends_text", func(t *testing.T) {
		before := evaluate[int](t, ctx, `__t.recv('reply.end').length`)
		evaluate[chromedp.Void](t, ctx, `__t.q('.quick button').click()`)
		waitFor(t, ctx, 10*time.Second, "the quick reply's answer",
			fmt.Sprintf(`__t.recv('reply.end').length > %d`, before), "")
		if ids := fake.messageIDs("Show cheaper ones"); len(ids) != 1 {
			t.Errorf("server got the quick reply %d times, want once", len(ids))
		}
	})

	t.Run("markdown_is_safe", func(t *testing.T) {
		sendAndWait(t, ctx, "markdown")
		bubble := `__t.lastBot().querySelector('.bubble')`
		if n := evaluate[int](t, ctx, bubble+`.querySelectorAll('strong').length`); n != 1 {
			t.Errorf("bold elements = %d, want 1", n)
		}
		if n := evaluate[int](t, ctx, bubble+`.querySelectorAll('em').length`); n != 1 {
			t.Errorf("italic elements = %d, want 1", n)
		}
		if n := evaluate[int](t, ctx, bubble+`.querySelectorAll('ul li').length`); n != 2 {
			t.Errorf("list items = %d, want 2", n)
		}
		links := evaluate[[]string](t, ctx, `Array.from(`+bubble+`.querySelectorAll('a')).map(a => a.href)`)
		if len(links) != 1 || links[0] != srv.URL+"/products/trail-boot" {
			t.Errorf("links = %q, want only %s/products/trail-boot", links, srv.URL)
		}
		if n := evaluate[int](t, ctx, bubble+`.querySelectorAll('img').length`); n != 0 {
			t.Errorf("reply produced %d <img> elements, want the markup shown as text", n)
		}
		if !strings.Contains(evaluate[string](t, ctx, bubble+`.textContent`), `<img src=x onerror="window.__pwned=3">`) {
			t.Error("the raw <img> markup is not shown as text")
		}
		if evaluate[bool](t, ctx, `window.__pwned !== undefined`) {
			t.Errorf("window.__pwned = %v, want undefined", evaluate[any](t, ctx, `window.__pwned`))
		}
	})

	t.Run("agent_takeover", func(t *testing.T) {
		typeMessage(t, ctx, "agent please")
		waitFor(t, ctx, 5*time.Second, "the agent's message", `__t.qa('.row.agent').length === 1`, "")
		name := evaluate[string](t, ctx, `__t.q('.row.agent .who').textContent`)
		if name != "Lin" {
			t.Errorf("agent name = %q, want Lin", name)
		}
		if n := evaluate[int](t, ctx, `__t.q('.row.agent .bubble strong') ? 1 : 0`); n != 1 {
			t.Error("the agent's Markdown is not rendered")
		}
		waitFor(t, ctx, 5*time.Second, "the handover notes", `__t.qa('.note').length >= 2`, `__t.qa('.note').map(n => n.textContent)`)
		notes := evaluate[string](t, ctx, `__t.qa('.note').map(n => n.textContent).join('|')`)
		if !strings.Contains(notes, "Lin from our team joined") || !strings.Contains(notes, "The assistant is back") {
			t.Errorf("notes = %q, want join and return notes", notes)
		}
	})

	t.Run("rate_limited_error", func(t *testing.T) {
		typeMessage(t, ctx, "rate me")
		waitFor(t, ctx, 5*time.Second, "the rate limit note",
			`__t.qa('.note').some(n => n.textContent.includes('retry in 20 s'))`, `__t.qa('.note').map(n => n.textContent)`)
		waitFor(t, ctx, 5*time.Second, "a retry button on the failed message",
			`__t.qa('.row.user .meta button').length === 1`, "")
	})

	t.Run("resend_after_drop_before_store", func(t *testing.T) {
		fake.setDropMode("before_store")
		hellos := evaluate[int](t, ctx, `__t.sent('hello').length`)
		maxSeq := evaluate[int](t, ctx, `Math.max(...__t.seqs())`)
		typeMessage(t, ctx, "first drop")
		waitFor(t, ctx, 5*time.Second, "the offline state", `__t.q('.panel').dataset.connection === 'offline'`, "")
		if evaluate[bool](t, ctx, `__t.q('.offline').hidden`) {
			t.Error("offline note hidden while disconnected")
		}
		waitFor(t, ctx, 10*time.Second, "the reply after reconnecting",
			`__t.qa('.row.bot').some(r => r.dataset.seq && r.textContent.includes('Good evening'))
			 && __t.recv('reply.end').some(f => f.in_reply_to === __t.sent('message').find(m => m.text === 'first drop').id)`,
			`__t.sent('message')`)
		ids := fake.messageIDs("first drop")
		if len(ids) != 2 || ids[0] != ids[1] {
			t.Errorf("message ids received = %v, want the same id twice", ids)
		}
		if n := evaluate[int](t, ctx, `__t.qa('.row.user').filter(r => r.textContent.includes('first drop')).length`); n != 1 {
			t.Errorf("shopper message shown %d times, want once", n)
		}
		resume := evaluate[float64](t, ctx, fmt.Sprintf(`__t.sent('hello')[%d].resume_after`, hellos))
		if int(resume) <= maxSeq {
			t.Errorf("resume_after = %v after reconnecting, want above %d (the user message's seq was seen)", resume, maxSeq)
		}
		checkNoDuplicateSeqs(t, ctx)
	})

	t.Run("history_completes_drop_after_store", func(t *testing.T) {
		fake.setDropMode("after_store")
		bots := evaluate[int](t, ctx, `__t.qa('.row.bot:not(.greeting)').length`)
		typeMessage(t, ctx, "second drop")
		waitFor(t, ctx, 10*time.Second, "the reply from the history",
			fmt.Sprintf(`__t.qa('.row.bot:not(.greeting)[data-seq]').length === %d && __t.q('.panel').dataset.connection === 'online'`, bots+1),
			`__t.seqs()`)
		if ids := fake.messageIDs("second drop"); len(ids) != 1 {
			t.Errorf("message sent %d times, want once because the history held its reply", len(ids))
		}
		if n := evaluate[int](t, ctx, `__t.qa('.streaming').length`); n != 0 {
			t.Errorf("%d replies still streaming after the history arrived", n)
		}
		checkNoDuplicateSeqs(t, ctx)
	})

	t.Run("reload_repaints_history", func(t *testing.T) {
		before := evaluate[[]int](t, ctx, `__t.seqs()`)
		checkIncreasing(t, "seqs before reload", before)
		navigate(t, ctx, srv.URL+"/?debug=1&lang=en")
		if got := evaluate[float64](t, ctx, `__t.sent('hello')[0].resume_after`); got != 0 {
			t.Errorf("resume_after on page load = %v, want 0", got)
		}
		if got := fmt.Sprint(fake.lastHello()["visitor_id"]); got != "v-test-1" {
			t.Errorf("visitor_id after reload = %q, want the stored v-test-1", got)
		}
		after := evaluate[[]int](t, ctx, `__t.seqs()`)
		checkIncreasing(t, "seqs after reload", after)
		last := before[len(before)-1]
		if len(after) != last || after[len(after)-1] != last {
			// the message sent during the handover has no seq until now
			t.Errorf("seqs after reload = %v, want 1 to %d", after, last)
		}
	})

	t.Run("logout_starts_fresh", func(t *testing.T) {
		evaluate[chromedp.Void](t, ctx, `Concierge.logout()`)
		waitFor(t, ctx, 5*time.Second, "a new ready frame", `__t.recv('ready').length === 2`, "")
		if n := evaluate[int](t, ctx, `__t.seqs().length`); n != 0 {
			t.Errorf("%d message rows after logout, want 0", n)
		}
		if _, ok := fake.lastHello()["visitor_id"]; ok {
			t.Errorf("hello after logout = %v, want no visitor_id", fake.lastHello())
		}
		stored := evaluate[string](t, ctx, `localStorage.getItem('concierge:v1:`+srv.URL+`:visitor')`)
		if stored != "v-test-2" {
			t.Errorf("stored visitor id = %q, want the new v-test-2", stored)
		}
	})
}

func TestWidgetPhoneLayout(t *testing.T) {
	chromiumPath(t)
	srv := httptest.NewServer(newFakeChat(t).handler())
	t.Cleanup(srv.Close)
	ctx := browser(t, 360, 740)
	navigate(t, ctx, srv.URL+"/?debug=1&lang=zh")
	openWidget(t, ctx)

	box := evaluate[[]float64](t, ctx,
		`(r => [r.left, r.top, r.width, r.height])(__t.q('.panel').getBoundingClientRect())`)
	if fmt.Sprint(box) != "[0 0 360 740]" {
		t.Errorf("panel box at 360x740 = %v, want full screen [0 0 360 740]", box)
	}
	placeholder := evaluate[string](t, ctx, `__t.q('textarea').placeholder`)
	if !strings.Contains(placeholder, "商品") {
		t.Errorf("placeholder = %q, want the Chinese string", placeholder)
	}
	if locale := evaluate[string](t, ctx, `__t.sent('hello')[0].locale`); !strings.HasPrefix(locale, "zh") {
		t.Errorf("hello locale = %q, want zh*", locale)
	}
}

// ---------------------------------------------------------------- real server

// server is a concierge binary running on a fixed loopback port.
type server struct {
	bin, addr, data string
	owner           *testing.T // the test whose cleanup stops every process started
	cmd             *exec.Cmd
}

// buildServer compiles ./cmd/concierge once into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "concierge")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/concierge")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/concierge: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *server) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "serve", "-addr", s.addr, "-data", s.data)
	logFile, err := os.OpenFile(filepath.Join(s.data, "..", "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("open server log: %v", err)
	}
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.bin, err)
	}
	cmd := s.cmd
	s.owner.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})

	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.data, "..", "server.log"))
			t.Fatalf("server on %s not ready after 30s (last error %v); log:\n%s", s.addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL, as a crash would.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill server: %v", err)
	}
	var exitErr *exec.ExitError
	if err := s.cmd.Wait(); err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("wait for killed server: %v", err)
	}
}

func TestBrowserEndToEnd(t *testing.T) {
	chromiumPath(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	srv := &server{bin: buildServer(t), addr: freeAddr(t), data: filepath.Join(dir, "data"), owner: t}
	srv.start(t)
	base := "http://" + srv.addr

	ctx := browser(t, 1280, 800)
	navigate(t, ctx, base+"/?debug=1&lang=en")
	waitFor(t, ctx, 10*time.Second, "the product grid", `document.querySelectorAll('#grid .product').length > 0`,
		`document.getElementById('status').textContent`)
	openWidget(t, ctx)

	t.Run("streamed_reply_with_cards", func(t *testing.T) {
		sendAndWait(t, ctx, "waterproof boots under 150")
		final := evaluate[string](t, ctx, `__t.lastBot().querySelector('.bubble').textContent`)
		if final == "" {
			t.Fatal("the reply is empty")
		}
		deltas := evaluate[int](t, ctx, `__t.recv('reply.delta').length`)
		partial := evaluate[int](t, ctx,
			fmt.Sprintf(`__t.streamed.filter(s => s.length > 0 && s.length < %d).length`, len([]rune(final))))
		if deltas < 2 || partial == 0 {
			t.Errorf("reply.delta frames = %d and intermediate states = %d, want at least 2 and 1", deltas, partial)
		}
		if n := evaluate[int](t, ctx, `__t.lastBot().querySelectorAll('.card').length`); n == 0 {
			t.Error("the reply shows no product cards")
		}
	})

	t.Run("offer_click_reaches_server", func(t *testing.T) {
		// Offer ranking explores and experiments assign variants per user,
		// so a new visitor gets an offer on most turns but not on every one.
		// Retry with more messages and, after that, as a new visitor.
		prompts := []string{"Is there a discount for new customers?", "I need a birthday gift for my sister"}
		for visitor := 0; visitor < 4 && !evaluate[bool](t, ctx, `!!__t.q('.offer')`); visitor++ {
			if visitor > 0 {
				readies := evaluate[int](t, ctx, `__t.recv('ready').length`)
				evaluate[chromedp.Void](t, ctx, `Concierge.logout()`)
				waitFor(t, ctx, 10*time.Second, "the new visitor's ready frame",
					fmt.Sprintf(`__t.recv('ready').length > %d`, readies), "")
			}
			for _, prompt := range prompts {
				sendAndWait(t, ctx, prompt)
				if evaluate[bool](t, ctx, `!!__t.q('.offer')`) {
					break
				}
			}
		}
		if !evaluate[bool](t, ctx, `!!__t.q('.offer')`) {
			t.Fatalf("no offer card for four new visitors; reply.end offers: %s",
				evaluate[string](t, ctx, `JSON.stringify(__t.recv('reply.end').map(f => f.offer))`))
		}
		evaluate[chromedp.Void](t, ctx, `__t.q('.offer').click()`)
		waitFor(t, ctx, 5*time.Second, "the server's offer_click ack",
			`__t.recv('event.ack', 'offer_click').length > 0`, `__t.recv('error')`)
	})

	t.Run("thumbs_up", func(t *testing.T) {
		evaluate[chromedp.Void](t, ctx, `__t.lastBot().querySelector('[data-rating="1"]').click()`)
		if got := evaluate[string](t, ctx, `__t.lastBot().querySelector('[data-rating="1"]').getAttribute('aria-pressed')`); got != "true" {
			t.Errorf("thumbs up aria-pressed = %q, want true", got)
		}
		waitFor(t, ctx, 5*time.Second, "the server's feedback ack",
			`__t.recv('event.ack', 'feedback').length > 0`, `__t.recv('error')`)
	})

	screenshot(t, ctx, shots, "widget-desktop-en.png")

	t.Run("script_shown_as_text", func(t *testing.T) {
		text := `<script>window.__pwned=1</script>hi <img src=x onerror="window.__pwned=2">`
		sendAndWait(t, ctx, text)
		rows := evaluate[[]string](t, ctx, `__t.qa('.row.user .bubble').map(b => b.textContent)`)
		if len(rows) == 0 || rows[len(rows)-1] != text {
			t.Errorf("last shopper bubble = %q, want the literal text %q", rows, text)
		}
		if n := evaluate[int](t, ctx, `__t.qa('.log script, .log img:not(.card img):not(.offer img)').length`); n != 0 {
			t.Errorf("%d script or img elements in the transcript, want 0", n)
		}
		if evaluate[bool](t, ctx, `window.__pwned !== undefined`) {
			t.Error("window.__pwned is set: shopper text ran as code")
		}
	})

	t.Run("reconnect_after_crash", func(t *testing.T) {
		seqsBefore := evaluate[[]int](t, ctx, `__t.seqs()`)
		srv.kill(t)
		waitFor(t, ctx, 10*time.Second, "the offline state",
			`__t.q('.panel').dataset.connection === 'offline' && !__t.q('.offline').hidden`, "")
		srv.start(t)
		waitFor(t, ctx, 20*time.Second, "the widget to reconnect",
			`__t.q('.panel').dataset.connection === 'online' && __t.recv('ready').length >= 2`, `__t.recv('ready').length`)
		seqsAfter := evaluate[[]int](t, ctx, `__t.seqs()`)
		if fmt.Sprint(seqsAfter) != fmt.Sprint(seqsBefore) {
			t.Errorf("seqs after reconnecting = %v, want %v", seqsAfter, seqsBefore)
		}
		resume := evaluate[float64](t, ctx, `__t.sent('hello').slice(-1)[0].resume_after`)
		if int(resume) != seqsBefore[len(seqsBefore)-1] {
			t.Errorf("resume_after = %v, want the last seq %d", resume, seqsBefore[len(seqsBefore)-1])
		}
		checkNoDuplicateSeqs(t, ctx)

		sendAndWait(t, ctx, "Do you have them in black?")
		checkNoDuplicateSeqs(t, ctx)
		seqs := evaluate[[]int](t, ctx, `__t.seqs()`)
		if len(seqs) != len(seqsBefore)+2 {
			t.Errorf("seqs after one more turn = %v, want two more than %v", seqs, seqsBefore)
		}
	})

	t.Run("chinese_desktop", func(t *testing.T) {
		zh := browser(t, 1280, 800)
		navigate(t, zh, base+"/?debug=1&lang=en")
		evaluate[chromedp.Void](t, zh, `document.querySelector('.lang button[data-lang="zh"]').click()`)
		waitFor(t, zh, 10*time.Second, "the Chinese page and widget",
			`document.documentElement.lang === 'zh-CN' && __t.q('textarea').placeholder.includes('商品') && __t.recv('ready').length >= 2`,
			`__t.recv('ready').length`)
		openWidget(t, zh)
		sendAndWait(t, zh, "想给妈妈买个200元以内的生日礼物")
		reply := evaluate[string](t, zh, `__t.lastBot().querySelector('.bubble').textContent`)
		if !containsHan(reply) {
			t.Errorf("reply = %q, want Chinese text", reply)
		}
		if locale := evaluate[string](t, zh, `__t.sent('hello').slice(-1)[0].locale`); !strings.HasPrefix(locale, "zh") {
			t.Errorf("hello locale after switching = %q, want zh*", locale)
		}
		screenshot(t, zh, shots, "widget-desktop-zh.png")
	})

	if shots == "" {
		return
	}
	for _, lang := range []string{"en", "zh"} {
		t.Run("phone_"+lang, func(t *testing.T) {
			phone := browser(t, 360, 740)
			navigate(t, phone, base+"/?debug=1&lang="+lang)
			openWidget(t, phone)
			message := "waterproof boots under 150"
			if lang == "zh" {
				message = "想给妈妈买个200元以内的生日礼物"
			}
			sendAndWait(t, phone, message)
			screenshot(t, phone, shots, "widget-phone-"+lang+".png")
		})
	}
}

func checkIncreasing(t *testing.T, label string, seqs []int) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Errorf("%s = %v, want strictly increasing", label, seqs)
			return
		}
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
