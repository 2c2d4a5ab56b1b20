package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/concierge-chat/concierge/memory"
)

// Frames sent to the shopper's connections. They mirror the agent.message
// and handover frames of the WebSocket protocol (docs/protocol.md).
type agentMessageFrame struct {
	Type  string    `json:"type"` // "agent.message"
	Seq   uint64    `json:"seq"`
	Text  string    `json:"text"`
	Agent string    `json:"agent"`
	Time  time.Time `json:"time"`
}

type handoverFrame struct {
	Type  string `json:"type"`  // "handover"
	State string `json:"state"` // "agent" or "bot"
	Agent string `json:"agent,omitempty"`
}

// handoverResponse is the body of the takeover, handback and message routes.
type handoverResponse struct {
	UserID     string `json:"user_id"`
	HandedOver bool   `json:"handed_over"`
	// Connections is how many open connections of the shopper got the frame.
	Connections int    `json:"connections"`
	Seq         uint64 `json:"seq,omitempty"`
}

type takeoverRequest struct {
	Agent string `json:"agent"`
}

type agentMessageRequest struct {
	Agent string `json:"agent"`
	Text  string `json:"text"`
}

type annotationRequest struct {
	Seq    uint64 `json:"seq"`
	Label  string `json:"label"`
	Note   string `json:"note"`
	Author string `json:"author"`
}

// checkAgent validates a staff member's display name.
func checkAgent(w http.ResponseWriter, agent string) (string, bool) {
	agent = strings.TrimSpace(agent)
	if agent == "" || utf8.RuneCountInString(agent) > maxAgentRunes {
		writeError(w, http.StatusBadRequest, "agent",
			fmt.Sprintf("invalid field agent: give the staff member's name, 1 to %d characters", maxAgentRunes))
		return "", false
	}
	return agent, true
}

func (h *Handler) send(userID string, frame any) int {
	if h.live == nil {
		return 0
	}
	return h.live.SendToUser(userID, frame)
}

// setHandover marks the conversation as owned by staff (on) or the bot
// and returns whether it was owned by staff before. Taking over, and every
// staff message, restarts the handover timeout.
func (h *Handler) setHandover(r *http.Request, userID string, on bool) (bool, error) {
	var was bool
	_, err := h.store.UpdateProfile(r.Context(), userID, func(p *memory.Profile) error {
		was = p.HandedOver
		p.HandedOver, p.HandedOverAt = on, time.Time{}
		if on {
			p.HandedOverAt = h.now()
		}
		return nil
	})
	return was, err
}

func (h *Handler) takeover(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("user_id")
	var req takeoverRequest
	if !decodeBody(w, r, &req) {
		return
	}
	agent, ok := checkAgent(w, req.Agent)
	if !ok {
		return
	}
	if _, err := h.setHandover(r, userID, true); err != nil {
		h.storeError(w, r, userID, err)
		return
	}
	n := h.send(userID, handoverFrame{Type: "handover", State: "agent", Agent: agent})
	h.hub.publish(liveEvent{Type: "handover", UserID: userID, State: "agent", Agent: agent, Time: h.now()})
	h.log.Info("conversation taken over", "user_id", userID, "agent", agent, "connections", n)
	writeJSON(w, http.StatusOK, handoverResponse{UserID: userID, HandedOver: true, Connections: n})
}

func (h *Handler) handback(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("user_id")
	if _, err := h.setHandover(r, userID, false); err != nil {
		h.storeError(w, r, userID, err)
		return
	}
	n := h.send(userID, handoverFrame{Type: "handover", State: "bot"})
	h.hub.publish(liveEvent{Type: "handover", UserID: userID, State: "bot", Time: h.now()})
	h.log.Info("conversation handed back to the bot", "user_id", userID, "connections", n)
	writeJSON(w, http.StatusOK, handoverResponse{UserID: userID, HandedOver: false, Connections: n})
}

// agentMessage stores a staff message and sends it to the shopper. A
// conversation the bot still owns is taken over first, so that the bot does
// not reply when the shopper responds to the staff member.
func (h *Handler) agentMessage(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("user_id")
	var req agentMessageRequest
	if !decodeBody(w, r, &req) {
		return
	}
	agent, ok := checkAgent(w, req.Agent)
	if !ok {
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" || utf8.RuneCountInString(text) > maxTextRunes {
		writeError(w, http.StatusBadRequest, "text",
			fmt.Sprintf("invalid field text: give 1 to %d characters", maxTextRunes))
		return
	}

	was, err := h.setHandover(r, userID, true)
	if err != nil {
		h.storeError(w, r, userID, err)
		return
	}
	if !was {
		h.send(userID, handoverFrame{Type: "handover", State: "agent", Agent: agent})
		h.hub.publish(liveEvent{Type: "handover", UserID: userID, State: "agent", Agent: agent, Time: h.now()})
	}
	msg, err := h.store.AppendReply(r.Context(), userID, memory.RoleAgent, text, nil)
	if err != nil {
		h.storeError(w, r, userID, err)
		return
	}

	n := h.send(userID, agentMessageFrame{Type: "agent.message", Seq: msg.Seq, Text: msg.Text,
		Agent: agent, Time: msg.Time})
	h.hub.publish(liveEvent{Type: "message", UserID: userID, Role: memory.RoleAgent, Seq: msg.Seq,
		Text: msg.Text, Agent: agent, Time: msg.Time})
	h.log.Info("staff message sent", "user_id", userID, "agent", agent, "seq", msg.Seq, "connections", n)
	writeJSON(w, http.StatusOK, handoverResponse{UserID: userID, HandedOver: true, Connections: n, Seq: msg.Seq})
}

func (h *Handler) annotate(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("user_id")
	var req annotationRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Seq == 0 {
		writeError(w, http.StatusBadRequest, "seq", "invalid field seq: give the seq of the annotated message, from 1")
		return
	}
	label, note := strings.TrimSpace(req.Label), strings.TrimSpace(req.Note)
	if label == "" && note == "" {
		writeError(w, http.StatusBadRequest, "note", "invalid annotation: give a label, a note or both")
		return
	}
	if utf8.RuneCountInString(label) > maxAgentRunes || utf8.RuneCountInString(note) > maxNoteRunes ||
		utf8.RuneCountInString(req.Author) > maxAgentRunes {
		writeError(w, http.StatusBadRequest, "note", fmt.Sprintf("annotation too long: label and author "+
			"take at most %d characters, note at most %d", maxAgentRunes, maxNoteRunes))
		return
	}
	a := memory.Annotation{Label: label, Note: note, Author: strings.TrimSpace(req.Author), Time: h.now()}
	if err := h.store.Annotate(r.Context(), userID, req.Seq, a); err != nil {
		h.storeError(w, r, userID, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// liveConversation is one row of the live view.
type liveConversation struct {
	UserID       string    `json:"user_id"`
	Connected    bool      `json:"connected"`
	HandedOver   bool      `json:"handed_over"`
	HandedOverAt time.Time `json:"handed_over_at,omitzero"`
	LastSeen     time.Time `json:"last_seen,omitzero"`
	Updated      time.Time `json:"updated,omitzero"`
	LastText     string    `json:"last_text,omitempty"`
}

// maxLive caps each part of the live view: connected users and handed-over
// conversations.
const maxLive = 500

// liveConversations lists the users with an open connection and the
// conversations staff own, handed-over ones first.
func (h *Handler) liveConversations(w http.ResponseWriter, r *http.Request) {
	yes := true
	owned, _, err := h.store.Conversations(r.Context(), memory.ConversationQuery{HandedOver: &yes, Limit: maxLive})
	if err != nil {
		h.storeError(w, r, "", err)
		return
	}
	var connected []string
	if h.live != nil {
		connected = h.live.ActiveUsers()
	}
	isConnected := make(map[string]bool, len(connected))
	for _, u := range connected {
		isConnected[u] = true
	}

	out := []liveConversation{}
	seen := map[string]bool{}
	for _, c := range owned {
		seen[c.UserID] = true
		row := liveConversation{UserID: c.UserID, Connected: isConnected[c.UserID],
			HandedOver: true, Updated: c.Updated, LastText: c.LastText}
		if p, err := h.store.Profile(r.Context(), c.UserID); err == nil {
			row.HandedOverAt, row.LastSeen = p.HandedOverAt, p.LastSeen
		}
		out = append(out, row)
	}
	for _, u := range connected[:min(len(connected), maxLive)] {
		if seen[u] {
			continue
		}
		p, err := h.store.Profile(r.Context(), u)
		if err != nil {
			// The shopper sent hello but the profile is gone (erased meanwhile).
			continue
		}
		out = append(out, liveConversation{UserID: u, Connected: true, HandedOver: p.HandedOver,
			HandedOverAt: p.HandedOverAt, LastSeen: p.LastSeen})
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
}
