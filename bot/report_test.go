package bot_test

import (
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

func TestExperimentReportAttributes(t *testing.T) {
	ctx := t.Context()
	store := memtest.Open(t)
	base := time.Now().Add(-time.Hour)
	// seedUser stores one turn, impressions of welcome10 at base, and the
	// given events.
	seedUser := func(userID string, impressions int, events ...memory.Event) {
		t.Helper()
		if _, _, err := store.AppendUserMessage(ctx, userID, "m1", "hello"); err != nil {
			t.Fatal(err)
		}
		rec := &memory.TurnRecord{TurnID: "t_" + userID, InReplyTo: 1, Provider: "offline"}
		if _, err := store.AppendReply(ctx, userID, memory.RoleAssistant, "hi", rec); err != nil {
			t.Fatal(err)
		}
		for range impressions {
			imp := memory.Impression{OfferID: "welcome10", TurnID: "t_" + userID, Time: base}
			if err := store.RecordImpression(ctx, userID, imp); err != nil {
				t.Fatal(err)
			}
		}
		for _, ev := range events {
			if err := store.AppendEvent(ctx, userID, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	seedUser("clicker", 2,
		memory.Event{Type: "offer_click", OfferID: "welcome10", Time: base.Add(time.Minute)},
		memory.Event{Type: "purchase", Value: 40, Time: base.Add(2 * time.Minute)})
	seedUser("late", 1,
		memory.Event{Type: "offer_click", OfferID: "welcome10", Time: base.Add(3 * time.Hour)})
	seedUser("browser", 0)

	report, err := bot.ExperimentReport(ctx, store, bot.ReportOptions{AttributionWindow: 30 * time.Minute})
	if err != nil {
		t.Fatalf("ExperimentReport: %v", err)
	}
	if len(report.Variants) != 1 {
		t.Fatalf("variants = %d, want 1 without an experiment", len(report.Variants))
	}
	v := report.Variants[0]
	if v.Conversations != 3 {
		t.Errorf("conversations = %d, want 3", v.Conversations)
	}
	if v.Impressions != 3 {
		t.Errorf("impressions = %d, want 3", v.Impressions)
	}
	if v.Clicks != 1 {
		t.Errorf("clicks = %d, want 1: the late click is outside the window", v.Clicks)
	}
	if v.Conversions != 1 || v.Revenue != 40 {
		t.Errorf("conversions, revenue = %d, %g; want 1, 40", v.Conversions, v.Revenue)
	}
	if len(report.Offers) != 1 {
		t.Fatalf("offers = %+v, want welcome10 only", report.Offers)
	}
	o := report.Offers[0]
	if o.Name != "welcome10" || o.Conversations != 2 || o.Conversions != 1 {
		t.Errorf("offer row = %+v, want welcome10 with 2 conversations and 1 conversion", o)
	}
}

func TestExperimentReportSplitsVariants(t *testing.T) {
	ctx := t.Context()
	store := memtest.Open(t)
	exp := offer.Experiment{ID: "personalization", Control: "none", Variants: []offer.Variant{
		{Name: "none", Weight: 1, Personalize: "none"}, {Name: "full", Weight: 1, Personalize: "full"}}}
	for _, id := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"} {
		if _, _, err := store.AppendUserMessage(ctx, id, "m1", "hello"); err != nil {
			t.Fatal(err)
		}
		rec := &memory.TurnRecord{TurnID: "t_" + id, InReplyTo: 1, Provider: "offline"}
		if _, err := store.AppendReply(ctx, id, memory.RoleAssistant, "hi", rec); err != nil {
			t.Fatal(err)
		}
	}
	report, err := bot.ExperimentReport(ctx, store, bot.ReportOptions{Experiment: &exp})
	if err != nil {
		t.Fatalf("ExperimentReport: %v", err)
	}
	want := map[string]int{}
	for _, id := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"} {
		want[offer.Assign(exp, id).Name]++
	}
	for _, v := range report.Variants {
		if v.Conversations != want[v.Name] {
			t.Errorf("variant %s conversations = %d, want %d", v.Name, v.Conversations, want[v.Name])
		}
		delete(want, v.Name)
	}
	if len(want) != 0 {
		t.Errorf("variants missing from the report: %v", want)
	}
	if report.Experiment != "personalization" || report.Control != "none" {
		t.Errorf("report names %q/%q, want personalization/none", report.Experiment, report.Control)
	}
}
