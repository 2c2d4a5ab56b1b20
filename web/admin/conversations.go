package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/concierge-chat/concierge/memory"
)

// conversationView is one row of the conversation list.
type conversationView struct {
	ConversationID string    `json:"conversation_id"`
	UserID         string    `json:"user_id"`
	Started        time.Time `json:"started"`
	Updated        time.Time `json:"updated"`
	Messages       int       `json:"messages"`
	LastText       string    `json:"last_text"`
	ScenarioLabels []string  `json:"scenario_labels"`
	Intents        []string  `json:"intents"`
	Emotions       []string  `json:"emotions"`
	Offers         []string  `json:"offers"`
	Segment        string    `json:"segment"`
	Variant        string    `json:"variant"`
	HandedOver     bool      `json:"handed_over"`
}

func newConversationView(c memory.ConversationSummary) conversationView {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return conversationView{
		ConversationID: c.ConversationID, UserID: c.UserID, Started: c.Started, Updated: c.Updated,
		Messages: c.Messages, LastText: c.LastText, ScenarioLabels: nonNil(c.ScenarioLabels),
		Intents: nonNil(c.Intents), Emotions: nonNil(c.Emotions), Offers: nonNil(c.Offers),
		Segment: c.Segment, Variant: c.Variant, HandedOver: c.HandedOver,
	}
}

// listResponse is the body of GET /api/admin/conversations.
type listResponse struct {
	Conversations []conversationView `json:"conversations"`
	NextCursor    string             `json:"next_cursor"`
}

// paramError is an invalid query parameter, with the fix in its message.
type paramError struct {
	param string
	msg   string
}

func (e *paramError) Error() string { return e.param + ": " + e.msg }

// filterParams are the query parameters of the list and the export.
var filterParams = map[string]bool{
	"from": true, "to": true, "label": true, "emotion": true, "intent": true, "segment": true,
	"offer": true, "variant": true, "handed_over": true, "q": true, "limit": true, "cursor": true,
}

// parseQuery reads the list filters from the URL query. extra names the
// parameters a route accepts besides the filters.
func parseQuery(values url.Values, extra ...string) (memory.ConversationQuery, error) {
	for name := range values {
		if !filterParams[name] && !contains(extra, name) {
			return memory.ConversationQuery{}, &paramError{name, "unknown parameter; use from, to, label, " +
				"emotion, intent, segment, offer, variant, handed_over, q, limit or cursor"}
		}
	}
	q := memory.ConversationQuery{
		Label: values.Get("label"), Emotion: values.Get("emotion"), Intent: values.Get("intent"),
		Segment: values.Get("segment"), OfferID: values.Get("offer"), Variant: values.Get("variant"),
		Text: values.Get("q"), Cursor: values.Get("cursor"),
	}
	var err error
	if q.From, err = parseTime("from", values.Get("from")); err != nil {
		return q, err
	}
	if q.To, err = parseTime("to", values.Get("to")); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, &paramError{"to", "must be later than from"}
	}
	if s := values.Get("handed_over"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, &paramError{"handed_over", fmt.Sprintf("%q is not a boolean; use true or false", s)}
		}
		q.HandedOver = &b
	}
	if s := values.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return q, &paramError{"limit", fmt.Sprintf("%q is not a whole number from 1 to 500", s)}
		}
		q.Limit = n
	}
	return q, nil
}

// parseTime accepts RFC 3339 times and dates; a date means its midnight UTC.
func parseTime(param, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, &paramError{param, fmt.Sprintf("%q is not a time; use RFC 3339 such as "+
		"2026-12-04T09:00:00Z or a date such as 2026-12-04", s)}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// writeQueryError writes a 400 response for an invalid parameter or cursor
// and returns true. It returns false for other errors.
func writeQueryError(w http.ResponseWriter, err error) bool {
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, pe.param, "invalid parameter "+pe.Error())
	case errors.Is(err, memory.ErrInvalidCursor):
		writeError(w, http.StatusBadRequest, "cursor",
			"invalid parameter cursor: pass the next_cursor of the previous page unchanged, or omit it for the first page")
	default:
		return false
	}
	return true
}

func (h *Handler) listConversations(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeQueryError(w, err)
		return
	}
	list, next, err := h.store.Conversations(r.Context(), q)
	if err != nil {
		if !writeQueryError(w, err) {
			h.storeError(w, r, "", err)
		}
		return
	}
	resp := listResponse{Conversations: make([]conversationView, 0, len(list)), NextCursor: next}
	for _, c := range list {
		resp.Conversations = append(resp.Conversations, newConversationView(c))
	}
	writeJSON(w, http.StatusOK, resp)
}

// turnView is a decision record whose details are dropped when they are
// not valid JSON. Its Details field shadows the embedded one.
type turnView struct {
	*memory.TurnRecord
	Details json.RawMessage `json:"details,omitempty"`
}

// messageView is one message of a transcript.
type messageView struct {
	Seq         uint64              `json:"seq"`
	Role        string              `json:"role"`
	Text        string              `json:"text"`
	Time        time.Time           `json:"time"`
	ClientID    string              `json:"client_id,omitempty"`
	Annotations []memory.Annotation `json:"annotations"`
	Feedback    int                 `json:"feedback"`
	Turn        *turnView           `json:"turn,omitempty"`
}

func newMessageView(m memory.Message) messageView {
	v := messageView{Seq: m.Seq, Role: m.Role, Text: m.Text, Time: m.Time, ClientID: m.ClientID,
		Annotations: m.Annotations, Feedback: m.Feedback}
	if v.Annotations == nil {
		v.Annotations = []memory.Annotation{}
	}
	if m.Turn != nil {
		v.Turn = &turnView{TurnRecord: m.Turn}
		if json.Valid(m.Turn.Details) {
			v.Turn.Details = m.Turn.Details
		}
	}
	return v
}

// transcriptResponse is the body of GET /api/admin/conversations/{user_id}.
type transcriptResponse struct {
	UserID         string         `json:"user_id"`
	ConversationID string         `json:"conversation_id"`
	Profile        memory.Profile `json:"profile"`
	Messages       []messageView  `json:"messages"`
	Events         []memory.Event `json:"events"`
}

func (h *Handler) transcript(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("user_id")
	p, msgs, events, err := h.store.Transcript(r.Context(), userID)
	if err != nil {
		h.storeError(w, r, userID, err)
		return
	}
	resp := transcriptResponse{UserID: userID, ConversationID: memory.ConversationID(userID),
		Profile: p, Messages: make([]messageView, 0, len(msgs)), Events: events}
	if resp.Events == nil {
		resp.Events = []memory.Event{}
	}
	for _, m := range msgs {
		resp.Messages = append(resp.Messages, newMessageView(m))
	}
	writeJSON(w, http.StatusOK, resp)
}
