package admin

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/concierge-chat/concierge/memory"
)

// exportPageSize is how many conversations one Conversations call of an
// export lists. Each page and each transcript is read in its own short read
// transaction, so an export never holds one transaction open for its whole
// length.
const exportPageSize = 100

// exportRow is one message of an export.
type exportRow struct {
	ConversationID string              `json:"conversation_id"`
	UserID         string              `json:"user_id"`
	Seq            uint64              `json:"seq"`
	Time           time.Time           `json:"time"`
	Role           string              `json:"role"`
	Text           string              `json:"text"`
	Feedback       int                 `json:"feedback,omitempty"`
	TurnID         string              `json:"turn_id,omitempty"`
	ScenarioLabel  string              `json:"scenario_label,omitempty"`
	Intent         string              `json:"intent,omitempty"`
	Emotion        string              `json:"emotion,omitempty"`
	Segment        string              `json:"segment,omitempty"`
	Variant        string              `json:"variant,omitempty"`
	OfferID        string              `json:"offer_id,omitempty"`
	Provider       string              `json:"provider,omitempty"`
	Fallback       bool                `json:"fallback,omitempty"`
	Annotations    []memory.Annotation `json:"annotations,omitempty"`
}

var csvHeader = []string{"conversation_id", "user_id", "seq", "time", "role", "text", "feedback",
	"turn_id", "scenario_label", "intent", "emotion", "segment", "variant", "offer_id", "provider",
	"fallback", "annotations"}

func newExportRow(c memory.ConversationSummary, m memory.Message) exportRow {
	row := exportRow{ConversationID: c.ConversationID, UserID: c.UserID, Seq: m.Seq, Time: m.Time,
		Role: m.Role, Text: m.Text, Feedback: m.Feedback, Annotations: m.Annotations}
	if t := m.Turn; t != nil {
		row.TurnID, row.ScenarioLabel, row.Intent, row.Emotion = t.TurnID, t.ScenarioLabel, t.Intent, t.Emotion
		row.Segment, row.Variant, row.OfferID = t.Segment, t.Variant, t.OfferID
		row.Provider, row.Fallback = t.Provider, t.Fallback
	}
	return row
}

func (r exportRow) csvRecord() []string {
	var notes string
	if len(r.Annotations) > 0 {
		data, _ := json.Marshal(r.Annotations)
		notes = string(data)
	}
	return []string{r.ConversationID, r.UserID, strconv.FormatUint(r.Seq, 10),
		r.Time.UTC().Format(time.RFC3339Nano), r.Role, r.Text, strconv.Itoa(r.Feedback), r.TurnID,
		r.ScenarioLabel, r.Intent, r.Emotion, r.Segment, r.Variant, r.OfferID, r.Provider,
		strconv.FormatBool(r.Fallback), notes}
}

// rowWriter writes export rows in one format.
type rowWriter interface {
	write(exportRow) error
	flush() error
}

type jsonlWriter struct{ enc *json.Encoder }

func (j jsonlWriter) write(r exportRow) error { return j.enc.Encode(r) }
func (j jsonlWriter) flush() error            { return nil }

type csvWriter struct{ w *csv.Writer }

func (c csvWriter) write(r exportRow) error { return c.w.Write(r.csvRecord()) }

func (c csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// export streams every message of the conversations matching the list
// filters, newest conversation first, as JSON Lines or CSV. The limit and
// cursor parameters are not used: an export covers every match.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	values := r.URL.Query()
	format := values.Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" {
		writeError(w, http.StatusBadRequest, "format", fmt.Sprintf("invalid parameter format: %q; use jsonl or csv", format))
		return
	}
	q, err := parseQuery(values, "format")
	if err != nil {
		writeQueryError(w, err)
		return
	}
	q.Limit, q.Cursor = exportPageSize, ""

	name := "conversations-" + h.now().UTC().Format("20060102-150405") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	var rw rowWriter
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return
		}
		rw = csvWriter{cw}
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		rw = jsonlWriter{json.NewEncoder(w)}
	}

	rows, err := h.writeExport(w, r, q, rw)
	if err == nil {
		err = rw.flush()
	}
	if err != nil {
		// The status line is sent already; the client sees a cut-off body.
		h.log.Error("export failed", "format", format, "rows", rows, "error", err)
		return
	}
	h.log.Info("export finished", "format", format, "rows", rows)
}

// writeExport pages through the matching conversations and writes their
// messages, flushing to the client after each page. It returns the rows
// written.
func (h *Handler) writeExport(w http.ResponseWriter, r *http.Request, q memory.ConversationQuery, rw rowWriter) (int, error) {
	rc := http.NewResponseController(w)
	rows := 0
	for {
		page, next, err := h.store.Conversations(r.Context(), q)
		if err != nil {
			return rows, err
		}
		for _, c := range page {
			_, msgs, _, err := h.store.Transcript(r.Context(), c.UserID)
			if errors.Is(err, memory.ErrNotFound) {
				continue // erased after the page was listed
			}
			if err != nil {
				return rows, err
			}
			for _, m := range msgs {
				if err := rw.write(newExportRow(c, m)); err != nil {
					return rows, err
				}
				rows++
			}
		}
		if err := rw.flush(); err != nil {
			return rows, err
		}
		_ = rc.Flush() // a writer without Flush sends the body at the end
		if next == "" || len(page) == 0 {
			return rows, nil
		}
		q.Cursor = next
	}
}
