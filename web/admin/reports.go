package admin

import (
	"context"
	"net/http"
	"strconv"
)

// Reports computes the experiment report. cmd adapts the bot's report to it.
type Reports interface {
	// ExperimentReport returns the report of the configured experiment,
	// with Laplace noise of the given epsilon added to published counts
	// (zero means exact counts), as a value that encodes to JSON.
	ExperimentReport(ctx context.Context, epsilon float64) (any, error)
}

// Segments recomputes user segments on demand.
type Segments interface {
	// RunSegments clusters the users now and returns a summary that
	// encodes to JSON.
	RunSegments(ctx context.Context) (any, error)
}

func (h *Handler) runSegments(w http.ResponseWriter, r *http.Request) {
	if h.segments == nil {
		writeError(w, http.StatusNotImplemented, "", "segmentation is not configured on this server")
		return
	}
	summary, err := h.segments.RunSegments(r.Context())
	if err != nil {
		h.log.Warn("segment run failed", "error", err)
		writeError(w, http.StatusConflict, "", "segments were not computed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, summary)
}

func (h *Handler) experimentReport(w http.ResponseWriter, r *http.Request) {
	if h.reports == nil {
		writeError(w, http.StatusNotImplemented, "", "experiment reports are not configured on this server")
		return
	}
	epsilon := 0.0
	if v := r.URL.Query().Get("epsilon"); v != "" {
		e, err := strconv.ParseFloat(v, 64)
		if err != nil || e < 0 {
			writeError(w, http.StatusBadRequest, "epsilon",
				"epsilon "+strconv.Quote(v)+" is invalid; use a positive number such as 1, or 0 for exact counts")
			return
		}
		epsilon = e
	}
	report, err := h.reports.ExperimentReport(r.Context(), epsilon)
	if err != nil {
		h.log.Error("experiment report failed", "error", err)
		writeError(w, http.StatusInternalServerError, "", "the report failed; see the server log")
		return
	}
	writeJSON(w, http.StatusOK, report)
}
