package memory

import (
	"encoding/json"
	"time"
)

// Roles of stored messages.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleAgent     = "agent" // a staff member speaking in the conversation
)

// Message is one stored message of a conversation. Seq increases by one for
// every message of the user's conversation, starting at 1.
type Message struct {
	Seq      uint64    `json:"seq"`
	Role     string    `json:"role"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
	ClientID string    `json:"client_id,omitempty"` // the client's message id, for user messages
	// Turn is set on assistant messages: the decisions behind the reply.
	Turn *TurnRecord `json:"turn,omitempty"`
	// Annotations are notes staff attached to the message in the console.
	Annotations []Annotation `json:"annotations,omitempty"`
	// Feedback is the user's rating of an assistant reply: 1 thumbs up,
	// -1 thumbs down, 0 none. A feedback event with the reply's turn id sets it.
	Feedback int `json:"feedback,omitempty"`
}

// Annotation is a staff note on one message.
type Annotation struct {
	Label  string    `json:"label,omitempty"`
	Note   string    `json:"note,omitempty"`
	Author string    `json:"author,omitempty"`
	Time   time.Time `json:"time"`
}

// TurnRecord holds the decisions behind one bot reply, as staff see them.
type TurnRecord struct {
	TurnID    string `json:"turn_id"`
	InReplyTo uint64 `json:"in_reply_to"` // seq of the user message this reply is for

	ScenarioLabel string   `json:"scenario_label,omitempty"`
	Intent        string   `json:"intent,omitempty"`
	Emotion       string   `json:"emotion,omitempty"`
	Segment       string   `json:"segment,omitempty"`
	Variant       string   `json:"variant,omitempty"`
	OfferID       string   `json:"offer_id,omitempty"`
	Products      []Scored `json:"products,omitempty"`

	Provider       string `json:"provider"`
	Model          string `json:"model,omitempty"`
	Fallback       bool   `json:"fallback,omitempty"` // the offline responder wrote the reply after a provider failure
	FallbackReason string `json:"fallback_reason,omitempty"`
	TokensIn       int    `json:"tokens_in,omitempty"`
	TokensOut      int    `json:"tokens_out,omitempty"`
	FirstTokenMS   int64  `json:"first_token_ms,omitempty"`
	TotalMS        int64  `json:"total_ms,omitempty"`

	// Details is the full decision record (scenario with reasons, retrieval
	// filter, offer reasoning) as JSON, kept opaque to this package and
	// stored inline rather than as base64.
	Details json.RawMessage `json:"details,omitempty"`
}

// Scored is a product id with its retrieval score.
type Scored struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// Profile is the store's record of a user across conversations.
type Profile struct {
	UserID    string    `json:"user_id"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Visits    int       `json:"visits"` // hello frames received
	Turns     int       `json:"turns"`
	Locale    string    `json:"locale,omitempty"`
	Timezone  string    `json:"timezone,omitempty"`
	Country   string    `json:"country,omitempty"`
	// CategoryAffinity counts weighted interest per category path, from
	// views, cart adds, purchases and products shown in replies.
	CategoryAffinity map[string]float64 `json:"category_affinity,omitempty"`
	Budget           float64            `json:"budget,omitempty"` // last price bound the user stated; zero when none
	Segment          string             `json:"segment,omitempty"`
	Purchases        int                `json:"purchases,omitempty"`
	Revenue          float64            `json:"revenue,omitempty"`
	// EmotionTrend is an exponential moving average of message sentiment in
	// [-1, 1]; negative means the user has been unhappy lately.
	EmotionTrend float64 `json:"emotion_trend,omitempty"`
	// Summary condenses messages that no longer fit in a prompt.
	Summary string `json:"summary,omitempty"`
	// HandedOver is set while a staff member owns the conversation.
	HandedOver bool `json:"handed_over,omitempty"`
	// HandedOverAt is when the conversation was handed to staff, or when a
	// staff member last wrote in it; the bot replies again once it is older
	// than the handover timeout. Zero while HandedOver is set means no
	// timeout applies.
	HandedOverAt time.Time `json:"handed_over_at,omitzero"`
}

// Event is a commerce or UI event reported by the client.
type Event struct {
	Type      string    `json:"type"` // page_view, product_view, add_to_cart, remove_from_cart, checkout, purchase, offer_click, offer_redeem, feedback
	Time      time.Time `json:"time"`
	ProductID string    `json:"product_id,omitempty"`
	Category  string    `json:"category,omitempty"`
	OfferID   string    `json:"offer_id,omitempty"`
	TurnID    string    `json:"turn_id,omitempty"`
	Value     float64   `json:"value,omitempty"`  // order or cart value in major units
	Rating    int       `json:"rating,omitempty"` // feedback: 1 thumbs up, -1 thumbs down
}
