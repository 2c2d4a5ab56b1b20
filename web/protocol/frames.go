// Package protocol defines the frames of Concierge's WebSocket protocol,
// version 1, their decoding with limits and their encoding. It does no I/O.
// docs/protocol.md is the integrator-facing description of the same frames.
package protocol

import "time"

// Version is the protocol version this package speaks.
const Version = 1

// Client frame types.
const (
	TypeHello   = "hello"
	TypeMessage = "message"
	TypeEvent   = "event"
)

// Server frame types.
const (
	TypeReady        = "ready"
	TypeReplyStart   = "reply.start"
	TypeReplyDelta   = "reply.delta"
	TypeReplyEnd     = "reply.end"
	TypeAgentMessage = "agent.message"
	TypeHandover     = "handover"
	TypeTyping       = "typing"
	TypeEventAck     = "event.ack"
	TypeMessageAck   = "message.ack"
	TypeError        = "error"
)

// Page is the page a shopper is on.
type Page struct {
	Kind      string `json:"kind,omitempty"`
	URL       string `json:"url,omitempty"`
	ProductID string `json:"product_id,omitempty"`
}

// Geo is the shopper's location as the client knows it.
type Geo struct {
	Country string `json:"country,omitempty"`
	Region  string `json:"region,omitempty"`
	City    string `json:"city,omitempty"`
}

// Hello opens a session.
type Hello struct {
	Type        string  `json:"type"`
	Protocol    int     `json:"protocol"`
	VisitorID   string  `json:"visitor_id,omitempty"`
	UserToken   string  `json:"user_token,omitempty"`
	Locale      string  `json:"locale,omitempty"`
	Timezone    string  `json:"timezone,omitempty"`
	Device      string  `json:"device,omitempty"`
	Page        Page    `json:"page"`
	Geo         Geo     `json:"geo"`
	CartValue   float64 `json:"cart_value,omitempty"`
	ResumeAfter uint64  `json:"resume_after"`
}

// Message is a shopper's chat message.
type Message struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Event is a commerce or UI event.
type Event struct {
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	ProductID string  `json:"product_id,omitempty"`
	Category  string  `json:"category,omitempty"`
	OfferID   string  `json:"offer_id,omitempty"`
	TurnID    string  `json:"turn_id,omitempty"`
	Value     float64 `json:"value,omitempty"`
	Rating    int     `json:"rating,omitempty"`
	Page      *Page   `json:"page,omitempty"`
}

// EventNames lists the accepted event names.
var EventNames = []string{
	"page_view", "product_view", "add_to_cart", "remove_from_cart", "checkout",
	"purchase", "offer_click", "offer_redeem", "feedback",
}

// HistoryMessage is a stored message replayed in Ready.
type HistoryMessage struct {
	Seq      uint64    `json:"seq"`
	Role     string    `json:"role"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
	TurnID   string    `json:"turn_id,omitempty"`
	Products []Product `json:"products,omitempty"`
}

// Ready answers Hello.
type Ready struct {
	Type           string           `json:"type"`
	Protocol       int              `json:"protocol"`
	VisitorID      string           `json:"visitor_id"`
	UserID         string           `json:"user_id"`
	ConversationID string           `json:"conversation_id"`
	HandedOver     bool             `json:"handed_over"`
	History        []HistoryMessage `json:"history"`
}

// Product is a product card.
type Product struct {
	ID             string  `json:"id"`
	Title          string  `json:"title"`
	Price          float64 `json:"price"`
	CompareAtPrice float64 `json:"compare_at_price,omitempty"`
	Currency       string  `json:"currency"`
	URL            string  `json:"url"`
	Image          string  `json:"image"`
	InStock        bool    `json:"in_stock"`
}

// Offer is an offer card.
type Offer struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Copy      string  `json:"copy"`
	Code      string  `json:"code"`
	Kind      string  `json:"kind"`
	Value     float64 `json:"value,omitempty"`
	BannerURL string  `json:"banner_url"`
}

// Scenario is the part of a turn's scenario the client sees.
type Scenario struct {
	Label     string   `json:"label"`
	Intent    string   `json:"intent"`
	Emotion   string   `json:"emotion"`
	TimeOfDay string   `json:"time_of_day"`
	Festival  string   `json:"festival"`
	Reasons   []string `json:"reasons"`
}

// ReplyStart announces a reply.
type ReplyStart struct {
	Type      string `json:"type"`
	TurnID    string `json:"turn_id"`
	InReplyTo string `json:"in_reply_to"`
	UserSeq   uint64 `json:"user_seq"`
}

// ReplyDelta carries the next chunk of a reply. Reset voids the chunks sent
// before it: the model failed mid-reply and the fallback reply starts anew.
type ReplyDelta struct {
	Type   string `json:"type"`
	TurnID string `json:"turn_id"`
	Text   string `json:"text"`
	Reset  bool   `json:"reset,omitempty"`
}

// ReplyEnd completes a reply; it is sent after the reply is stored.
type ReplyEnd struct {
	Type         string    `json:"type"`
	TurnID       string    `json:"turn_id"`
	InReplyTo    string    `json:"in_reply_to"`
	Seq          uint64    `json:"seq"`
	Text         string    `json:"text"`
	Products     []Product `json:"products"`
	Offer        *Offer    `json:"offer"`
	Scenario     *Scenario `json:"scenario"`
	QuickReplies []string  `json:"quick_replies"`
	Relaxed      bool      `json:"relaxed"`
	// Duplicate marks the stored reply to a message id that was answered
	// before; nothing new was generated. Clients drop it by seq.
	Duplicate bool `json:"duplicate,omitempty"`
}

// AgentMessage is a staff member speaking.
type AgentMessage struct {
	Type  string    `json:"type"`
	Seq   uint64    `json:"seq"`
	Text  string    `json:"text"`
	Agent string    `json:"agent"`
	Time  time.Time `json:"time"`
}

// Handover reports who answers the conversation: "agent" or "bot".
type Handover struct {
	Type  string `json:"type"`
	State string `json:"state"`
	Agent string `json:"agent,omitempty"`
}

// Typing shows that someone is writing.
type Typing struct {
	Type string `json:"type"`
	Role string `json:"role"`
}

// EventAck acknowledges a stored event.
type EventAck struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// MessageAck confirms that a message was stored without a bot reply,
// because a staff member has the conversation.
type MessageAck struct {
	Type      string `json:"type"`
	InReplyTo string `json:"in_reply_to"`
	Seq       uint64 `json:"seq"`
}

// ErrorFrame reports a rejected frame or a failed turn.
type ErrorFrame struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	InReplyTo string `json:"in_reply_to,omitempty"`
}
