package offer

import "time"

// Event types that Attribute credits to an impression.
const (
	EventOfferClick  = "offer_click"
	EventOfferRedeem = "offer_redeem"
	EventPurchase    = "purchase"
)

// Impression records that an offer was shown to a user on a turn.
type Impression struct {
	OfferID string    `json:"offer_id"`
	TurnID  string    `json:"turn_id"`
	Time    time.Time `json:"time"`
}

// Event is a commerce event that may be credited to an offer.
type Event struct {
	Type    string    `json:"type"`               // EventOfferClick, EventOfferRedeem or EventPurchase
	OfferID string    `json:"offer_id,omitempty"` // set when the event names the offer it came from
	Value   float64   `json:"value,omitempty"`    // order value of a purchase
	Time    time.Time `json:"time"`
}

// Attribute credits ev to the latest of one user's impressions that came at
// or before the event and no more than window before it. When ev names an
// offer, only impressions of that offer count. Other event types, a window
// of zero or less, and events with no such impression return ok == false.
func Attribute(impressions []Impression, ev Event, window time.Duration) (offerID, turnID string, ok bool) {
	switch ev.Type {
	case EventOfferClick, EventOfferRedeem, EventPurchase:
	default:
		return "", "", false
	}
	if window <= 0 {
		return "", "", false
	}

	var best *Impression
	for i := range impressions {
		imp := &impressions[i]
		if ev.OfferID != "" && imp.OfferID != ev.OfferID {
			continue
		}
		if imp.Time.After(ev.Time) || ev.Time.Sub(imp.Time) > window {
			continue
		}
		if best == nil || imp.Time.After(best.Time) {
			best = imp
		}
	}
	if best == nil {
		return "", "", false
	}
	return best.OfferID, best.TurnID, true
}
