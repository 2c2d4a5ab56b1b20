package admin

import (
	"embed"
	"net/http"
	"path"
)

//go:embed console/index.html console/console.css console/console.js
var consoleFiles embed.FS

// consoleCSP keeps the console to its own scripts and styles and to
// requests to this server, so injected markup could neither run inline
// script nor send data elsewhere.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

var consoleTypes = map[string]string{
	"index.html":  "text/html; charset=utf-8",
	"console.css": "text/css; charset=utf-8",
	"console.js":  "text/javascript; charset=utf-8",
}

// serveConsole serves the console page and its assets. They are public
// because the page prompts for the staff token and sends it with each API
// request.
func (h *Handler) serveConsole(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	if r.URL.Path == "/admin" || r.URL.Path == "/admin/" {
		name = "index.html"
	}
	ctype, ok := consoleTypes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := consoleFiles.ReadFile("console/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Security-Policy", consoleCSP)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(data)
}
