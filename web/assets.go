package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/web/static"
)

// routeAssets adds the demo store, the widget, the catalog API for the demo
// grid and the server-drawn images.
func (s *Server) routeAssets(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.serveFile("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /products/{id}", s.serveFile("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /widget.js", s.serveFile("widget.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /api/products", s.serveProducts)
	mux.HandleFunc("GET /img/products/{file}", s.serveProductImage)
	mux.HandleFunc("GET /api/offers/{id}/banner.svg", s.serveBanner)
}

func (s *Server) serveFile(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := fs.ReadFile(static.Assets, name)
		if err != nil {
			http.Error(w, name+" is missing from this build", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, name, s.startTime(), bytes.NewReader(data))
	}
}

func (s *Server) serveProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	list := s.engine.ListProducts(r.Context(), bot.ProductQuery{
		Lang: langParam(q.Get("lang")), Text: q.Get("q"), Category: q.Get("category"),
		Limit: limit, Offset: max(offset, 0),
	})
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) serveProductImage(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		http.NotFound(w, r)
		return
	}
	card, category, ok := s.engine.Product(id, langParam(r.URL.Query().Get("lang")))
	if !ok {
		http.Error(w, "product "+strconv.Quote(id)+" not found", http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	err := static.RenderProductImage(&buf, static.ProductImageInput{ID: card.ID, Title: card.Title,
		Category: category, Price: card.Price, Currency: card.Currency})
	writeSVG(w, buf.Bytes(), err)
}

func (s *Server) serveBanner(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang := langParam(q.Get("lang"))
	card, ok := s.engine.OfferCard(r.PathValue("id"), lang, q.Get("scenario"), q.Get("festival"))
	if !ok {
		http.Error(w, "offer "+strconv.Quote(r.PathValue("id"))+" not found", http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	err := static.RenderBanner(&buf, static.BannerInput{OfferID: card.ID, Title: card.Title,
		Copy: card.Copy, Code: card.Code, Kind: card.Kind, Value: card.Value, Lang: lang,
		Scenario: q.Get("scenario"), Festival: q.Get("festival")})
	writeSVG(w, buf.Bytes(), err)
}

func writeSVG(w http.ResponseWriter, data []byte, err error) {
	if err != nil {
		http.Error(w, "drawing the image failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(data)
}

func langParam(v string) string {
	if strings.HasPrefix(strings.ToLower(v), "zh") {
		return "zh"
	}
	return "en"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
