package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleBrowser starts a headless Chromium for the console test and returns
// a tab context. It skips the test with -short or without Chromium.
func consoleBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests take several seconds; skipped with -short")
	}
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no Chromium at %s; install the chromium package or set CHROMIUM", path)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// pageEval runs a JavaScript expression in the tab and decodes its value.
func pageEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(callCtx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pageWait polls a JavaScript condition every 25 ms for up to 10 s. On
// timeout it fails with the page text.
func pageWait(t *testing.T, ctx context.Context, condition, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(callCtx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error: %v); page text: %s", condition, err,
				pageEval[string](t, ctx, "document.body.innerText"))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestConsoleInBrowser signs in to the staff console, opens a transcript
// whose text is markup, and takes the conversation over from the page.
func TestConsoleInBrowser(t *testing.T) {
	ctx := consoleBrowser(t)
	_, base := testApp(t, nil)
	shop, _ := dialShopper(t, base)
	markup := `<img src=x onerror="window.__xss=1">hello`
	shop.send(`{"type":"message","id":"m1","text":"` + jsonEscape(markup) + `"}`)
	shop.next("reply.end", "message.ack", "reply.start", "reply.delta")

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin")); err != nil {
		t.Fatalf("open console: %v", err)
	}
	pageWait(t, ctx, "the sign-in form", `document.getElementById('token')`)
	pageEval[chromedp.Void](t, ctx, `document.getElementById('token').value = 'wrong'`)
	pageEval[chromedp.Void](t, ctx, `document.getElementById('login-form').requestSubmit()`)
	pageWait(t, ctx, "the rejected-token message", `document.getElementById('login-error').textContent.includes('not valid')`)

	pageEval[chromedp.Void](t, ctx, `document.getElementById('token').value = '`+testAdminToken+`'`)
	pageEval[chromedp.Void](t, ctx, `document.getElementById('login-form').requestSubmit()`)
	pageWait(t, ctx, "a row in the conversation list", `document.querySelectorAll('#list tbody tr').length === 1`)

	pageEval[chromedp.Void](t, ctx, `document.querySelector('#list tbody tr').click()`)
	pageWait(t, ctx, "the transcript", `!document.getElementById('transcript').hidden && document.querySelectorAll('#messages > li').length === 2`)
	if got := pageEval[string](t, ctx, `document.querySelector('#messages > li .body').textContent`); got != markup {
		t.Errorf("first message shows %q, want the markup as text %q", got, markup)
	}
	if pageEval[bool](t, ctx, `document.querySelectorAll('#messages img').length > 0 || window.__xss === 1`) {
		t.Error("the shopper's markup became an element in the console")
	}
	if !pageEval[bool](t, ctx, `document.querySelector('#messages details summary').textContent.startsWith('Decision')`) {
		t.Error("the bot reply shows no decision record")
	}

	pageEval[chromedp.Void](t, ctx, `document.getElementById('agent-name').value = 'Lin'`)
	pageEval[chromedp.Void](t, ctx, `document.getElementById('takeover').click()`)
	if f := shop.next("handover"); f["state"] != "agent" || f["agent"] != "Lin" {
		t.Errorf("handover frame = %v", f)
	}
	pageEval[chromedp.Void](t, ctx, `document.getElementById('agent-text').value = 'Hi, Lin here.'`)
	pageEval[chromedp.Void](t, ctx, `document.getElementById('agent-form').requestSubmit()`)
	if f := shop.next("agent.message"); f["text"] != "Hi, Lin here." {
		t.Errorf("agent.message = %v", f)
	}
	pageWait(t, ctx, "the staff message in the transcript", `document.querySelectorAll('#messages > li.agent').length === 1`)

	pageEval[chromedp.Void](t, ctx, `document.querySelector('[data-tab=live]').click()`)
	pageWait(t, ctx, "the live event stream",
		`document.getElementById('live-status').textContent === 'receiving new messages'`)
	pageWait(t, ctx, "the taken-over conversation in the live list",
		`Array.from(document.querySelectorAll('#live-list tbody tr')).some(tr => tr.textContent.includes('staff'))`)
	shop.send(`{"type":"message","id":"m2","text":"still there?"}`)
	pageWait(t, ctx, "the shopper's message in the live feed",
		`Array.from(document.querySelectorAll('#feed li')).some(li => li.textContent.includes('still there?'))`)
}

// jsonEscape escapes s for a JSON string literal.
func jsonEscape(s string) string {
	data, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(data[1 : len(data)-1])
}
