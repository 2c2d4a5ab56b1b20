package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// erase deletes everything stored about a user and compacts the store, so
// the user's text is gone from the file.
func (h *Handler) erase(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("user_id")
	if err := h.store.Erase(r.Context(), userID); err != nil {
		h.storeError(w, r, userID, err)
		return
	}
	h.hub.publish(liveEvent{Type: "erased", UserID: userID, Time: h.now()})
	h.log.Info("user erased by staff", "user_id", userID)
	writeJSON(w, http.StatusOK, map[string]any{"user_id": userID, "erased": true})
}

// uploadCatalog imports the request body into the running product index.
// Searches keep using the previous catalog until the import is written.
func (h *Handler) uploadCatalog(w http.ResponseWriter, r *http.Request) {
	if h.catalog == nil {
		writeError(w, http.StatusNotImplemented, "", "catalog upload is not available on this server")
		return
	}
	values := r.URL.Query()
	for name := range values {
		if name != "format" && name != "prune" && name != "name" {
			writeError(w, http.StatusBadRequest, name, "invalid parameter "+name+": unknown; use format, prune or name")
			return
		}
	}
	req := CatalogRequest{Name: values.Get("name"), Format: values.Get("format")}
	if s := values.Get("prune"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "prune", fmt.Sprintf("invalid parameter prune: %q; use true or false", s))
			return
		}
		req.Prune = b
	}
	if req.Name == "" {
		req.Name = "upload"
	}

	res, err := h.catalog.ImportCatalog(r.Context(), http.MaxBytesReader(w, r.Body, maxCatalogBody), req)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body",
			fmt.Sprintf("catalog file is over %d MiB; split it and upload the parts without prune", maxCatalogBody>>20))
		return
	case errors.Is(err, ErrCatalogInput):
		writeError(w, http.StatusBadRequest, "body", err.Error())
		return
	case errors.Is(err, ErrCatalogUnavailable):
		writeError(w, http.StatusServiceUnavailable, "", err.Error())
		return
	case err != nil:
		h.storeError(w, r, "", err)
		return
	}
	h.log.Info("catalog uploaded", "format", res.Format, "imported", res.Imported, "skipped", res.Skipped,
		"prune", req.Prune, "products", res.After)
	writeJSON(w, http.StatusOK, res)
}
