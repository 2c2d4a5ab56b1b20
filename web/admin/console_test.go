package admin_test

import (
	"os"
	"regexp"
	"testing"
)

// TestConsoleNeverParsesHTML guards the console's rule that data is
// rendered as text: shoppers write the transcripts staff read.
func TestConsoleNeverParsesHTML(t *testing.T) {
	js, err := os.ReadFile("console/console.js")
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile("console/index.html")
	if err != nil {
		t.Fatal(err)
	}
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|createContextualFragment|DOMParser`)
	if m := sinks.FindAll(js, -1); len(m) > 0 {
		t.Errorf("console.js uses HTML-parsing sinks: %q", m)
	}
	if regexp.MustCompile(`(?i)<script>|\son[a-z]+=`).Match(html) {
		t.Error("index.html has inline script or inline event handlers, which the CSP blocks")
	}
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).Match(html) {
		t.Error("index.html loads a resource from another host")
	}
	if regexp.MustCompile(`fetch\("https?:`).Match(js) {
		t.Error("console.js requests another host")
	}
}
