package llm

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Facts are the inputs of one turn that the offline responder writes its
// reply from: the same facts the model prompt carries.
type Facts struct {
	Language  string // "zh" or "en"; anything else is treated as "en"
	Text      string // the user's message
	TimeOfDay string // morning, afternoon, evening or night
	// Festival is the name of a near festival in Language, empty when none.
	Festival string
	// FestivalDaysLeft is the number of days until Festival, 0 on the day.
	FestivalDaysLeft int
	Emotion          string // positive, neutral, negative, angry or anxious
	// Intent is one of product_search, gift, price, comparison,
	// order_status, shipping, return_refund, complaint, greeting, chitchat,
	// human or oos (out of scope).
	Intent   string
	Scenario string // scenario label
	Segment  string // readable segment name
	// Products are the retrieved products, best first. Compose names at most
	// maxNamedProducts of them.
	Products []ProductFact
	// Relaxed means the filter matched nothing and Products are the nearest
	// matches.
	Relaxed bool
	// FilterDesc describes the filter that matched nothing, such as
	// "under 100" or "100元以内".
	FilterDesc string
	Offer      *OfferFact // nil when no offer is shown
	Returning  bool       // the user has visited before
	Name       string     // the user's name, empty when unknown
}

// ProductFact is one retrieved product as the reply names it.
type ProductFact struct {
	ID             string
	Title          string
	Price          float64
	Currency       string // ISO 4217 code such as USD or CNY
	URL            string
	InStock        bool
	CompareAtPrice float64 // the earlier price when on sale, zero otherwise
}

// OfferFact is the offer chosen for the turn.
type OfferFact struct {
	Title string
	Copy  string
	Code  string // coupon code, empty when the offer needs none
}

// Offline is the rule-based responder used when no model is configured or
// the model fails. The zero value is ready to use and safe for concurrent
// use.
type Offline struct {
	// ChunkRunes is the size of each streamed delta in runes. Zero means
	// 12.
	ChunkRunes int
}

// OfflineModel is the model name Offline reports in Response, next to the
// provider name ProviderOffline.
const OfflineModel = "rules"

// Stream composes the reply for f and sends it to onDelta in chunks of
// ChunkRunes runes, on the calling goroutine. It stops with ctx's error
// when ctx ends and with onDelta's error when onDelta fails.
func (o Offline) Stream(ctx context.Context, f Facts, onDelta func(string) error) (Response, error) {
	start := time.Now()
	text := Compose(f)
	size := o.ChunkRunes
	if size <= 0 {
		size = 12
	}

	resp := Response{Text: text, Provider: ProviderOffline, Model: OfflineModel}
	for rest := text; rest != ""; {
		if err := ctx.Err(); err != nil {
			return Response{}, fmt.Errorf("offline stream: %w", err)
		}
		chunk := headRunes(rest, size)
		rest = rest[len(chunk):]
		if resp.FirstToken == 0 {
			resp.FirstToken = time.Since(start)
		}
		if err := onDelta(chunk); err != nil {
			return Response{}, fmt.Errorf("offline stream: deliver delta: %w", err)
		}
	}
	resp.TokensOut = EstimateTokens(text)
	return resp, nil
}

// headRunes returns the prefix of s holding at most n runes.
func headRunes(s string, n int) string {
	i := 0
	for count := 0; i < len(s) && count < n; count++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
