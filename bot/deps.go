package bot

import (
	"context"
	"time"

	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

// Memory is the user store as the engine uses it. memory.Store implements
// it.
type Memory interface {
	Touch(ctx context.Context, userID string, visit memory.Visit) (memory.Profile, string, error)
	AppendUserMessage(ctx context.Context, userID, clientID, text string) (memory.Message, *memory.Message, error)
	AppendReply(ctx context.Context, userID, role, text string, turn *memory.TurnRecord) (memory.Message, error)
	FinishTurn(ctx context.Context, userID, text string, turn *memory.TurnRecord, imp *memory.Impression, update func(*memory.Profile) error) (memory.Message, error)
	History(ctx context.Context, userID string, afterSeq uint64, limit int) ([]memory.Message, error)
	RecentTexts(ctx context.Context, userID string, n int) ([]memory.Message, error)
	Profile(ctx context.Context, userID string) (memory.Profile, error)
	UpdateProfile(ctx context.Context, userID string, fn func(*memory.Profile) error) (memory.Profile, error)
	AppendEvent(ctx context.Context, userID string, ev memory.Event) error
	Events(ctx context.Context, userID string, since time.Time) ([]memory.Event, error)
	RecordImpression(ctx context.Context, userID string, imp memory.Impression) error
	Impressions(ctx context.Context, userID string) ([]memory.Impression, error)
	ImpressionCounts(ctx context.Context, userID string) (map[string]int, error)
}

// Catalog is the product index as the engine uses it. retrieval.Index
// implements it.
type Catalog interface {
	Search(ctx context.Context, q retrieval.Query) (retrieval.Result, error)
	Get(id string) (retrieval.Product, bool)
	// Products returns the whole catalog, sorted by id.
	Products() []retrieval.Product
}

// Detector computes the scenario of a turn. scenario.Detector implements it.
type Detector interface {
	Detect(in scenario.Input) scenario.Scenario
}

// OfferPicker chooses at most one offer per turn and learns from outcomes.
// offer.Picker implements it.
type OfferPicker interface {
	Choose(ctx context.Context, c offer.Context) offer.Decision
	Reward(ctx context.Context, offerID string, features []float64, reward float64) error
	// Offers returns the configured offers.
	Offers() []offer.Offer
}
