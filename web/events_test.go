package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

func TestEventsStoredAndAcknowledged(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US"})
	r := c.Ask(t, "m-1", "waterproof boots under $150")
	if r.End.Offer == nil {
		t.Fatal("reply has no offer to click")
	}

	events := []protocol.Event{
		{Name: "product_view", ProductID: "trail-boot"},
		{Name: "add_to_cart", ProductID: "trail-boot", Value: 129},
		{Name: "offer_click", OfferID: r.End.Offer.ID, TurnID: r.End.TurnID},
		{Name: "feedback", TurnID: r.End.TurnID, Rating: -1},
	}
	for _, ev := range events {
		ev.Type = protocol.TypeEvent
		c.Send(t, ev)
		f := c.NextFrame(t)
		var ack protocol.EventAck
		f.Decode(t, &ack)
		if f.Type != protocol.TypeEventAck || ack.Name != ev.Name {
			t.Fatalf("%s event got %s %s, want event.ack", ev.Name, f.Type, f.Raw)
		}
	}

	stored, err := e.store.Events(context.Background(), ready.UserID, time.Time{})
	if err != nil {
		t.Fatalf("load events: %v", err)
	}
	if len(stored) != len(events) {
		t.Fatalf("stored %d events, want %d: %+v", len(stored), len(events), stored)
	}
	for i, ev := range events {
		got := stored[i]
		if got.Type != ev.Name || got.ProductID != ev.ProductID || got.OfferID != ev.OfferID ||
			got.TurnID != ev.TurnID || got.Value != ev.Value || got.Rating != ev.Rating {
			t.Errorf("stored event %d = %+v, want %+v", i, got, ev)
		}
		if got.Time.IsZero() {
			t.Errorf("stored event %d has no time", i)
		}
	}
	if stored[0].Category != "Shoes > Boots" {
		t.Errorf("product_view category = %q, want the catalog's Shoes > Boots", stored[0].Category)
	}

	msgs := e.history(ready.UserID)
	reply := storedReply(t, msgs, r.Start.UserSeq)
	if reply.Feedback != -1 {
		t.Errorf("reply feedback = %d, want -1", reply.Feedback)
	}
	p, err := e.store.Profile(context.Background(), ready.UserID)
	if err != nil {
		t.Fatalf("load profile: %v", err)
	}
	if p.CategoryAffinity["Shoes > Boots"] <= 0 {
		t.Errorf("category affinity = %v, want boots raised by the view and the cart add", p.CategoryAffinity)
	}
}

func TestFeedbackForUnknownTurnIsStored(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{})
	c.Send(t, protocol.Event{Type: protocol.TypeEvent, Name: "feedback", TurnID: "t_unknown", Rating: 1})
	f := c.NextFrame(t)
	if f.Type != protocol.TypeEventAck {
		t.Fatalf("feedback for an unknown turn got %s %s, want event.ack", f.Type, f.Raw)
	}
	stored, err := e.store.Events(context.Background(), ready.UserID, time.Time{})
	if err != nil {
		t.Fatalf("load events: %v", err)
	}
	if len(stored) != 1 || stored[0].TurnID != "t_unknown" {
		t.Errorf("stored events = %+v, want the one feedback event", stored)
	}
}

// TestEventAfterEraseIsAcknowledged erases a connected shopper, as staff
// do on request. A later event is stored for a user with no profile and is
// acknowledged, not reported as a failure that stored nothing.
func TestEventAfterEraseIsAcknowledged(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{})
	if err := e.store.Erase(context.Background(), ready.UserID); err != nil {
		t.Fatalf("erase user: %v", err)
	}

	c.Send(t, protocol.Event{Type: protocol.TypeEvent, Name: "add_to_cart", ProductID: "wool-scarf", Value: 39})
	f := c.NextFrame(t)
	if f.Type != protocol.TypeEventAck {
		t.Fatalf("event after erase got %s %s, want event.ack", f.Type, f.Raw)
	}
	stored, err := e.store.Events(context.Background(), ready.UserID, time.Time{})
	if err != nil {
		t.Fatalf("load events: %v", err)
	}
	if len(stored) != 1 {
		t.Errorf("stored %d events, want the one sent after the erase", len(stored))
	}
}
