package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/memory"
)

// ReportSource is the part of the store that the experiment report reads.
// memory.Store implements it.
type ReportSource interface {
	Users(ctx context.Context, fn func(memory.Profile) error) error
	Impressions(ctx context.Context, userID string) ([]memory.Impression, error)
	Events(ctx context.Context, userID string, since time.Time) ([]memory.Event, error)
}

// ReportOptions configures ExperimentReport.
type ReportOptions struct {
	// Experiment assigns users to variants; nil puts every user in one
	// unnamed variant.
	Experiment *offer.Experiment
	// AttributionWindow is how long after an impression a click,
	// redemption or purchase counts for that offer; zero means 24h.
	AttributionWindow time.Duration
	Since             time.Time // only users seen since then; zero means all
	Epsilon           float64   // Laplace noise for published counts; zero means exact
	Seed              uint64
}

// ExperimentReport sums, per variant and per offer, the conversations,
// impressions, clicks, redemptions, conversions and revenue of every user,
// attributing clicks, redemptions and purchases to the impression that
// preceded them within the attribution window.
func ExperimentReport(ctx context.Context, src ReportSource, opts ReportOptions) (offer.ExperimentReport, error) {
	if opts.AttributionWindow <= 0 {
		opts.AttributionWindow = 24 * time.Hour
	}
	// Variant totals and offer totals are reported from separate rows: a
	// user counts once in their variant's conversations but once in every
	// offer they saw.
	var variantRows, offerRows []offer.ReportRow
	err := src.Users(ctx, func(p memory.Profile) error {
		if p.LastSeen.Before(opts.Since) || p.Turns == 0 {
			return nil
		}
		conv, perOffer, err := userReportRows(ctx, src, p, opts)
		if err != nil {
			return err
		}
		variantRows = append(variantRows, conv)
		offerRows = append(offerRows, perOffer...)
		return nil
	})
	if err != nil {
		return offer.ExperimentReport{}, fmt.Errorf("experiment report: %w", err)
	}
	ro := offer.ReportOptions{Epsilon: opts.Epsilon, Seed: opts.Seed}
	if exp := opts.Experiment; exp != nil {
		ro.Experiment, ro.Control = exp.ID, exp.Control
	}
	report := offer.Report(variantRows, ro)
	ro.Seed++
	report.Offers = offer.Report(offerRows, ro).Offers
	return report, nil
}

// userReportRows returns the user's row for the variant totals and one row
// per offer the user saw.
func userReportRows(ctx context.Context, src ReportSource, p memory.Profile, opts ReportOptions) (offer.ReportRow, []offer.ReportRow, error) {
	variant := assignVariant(opts.Experiment, p.UserID).Name
	imps, err := src.Impressions(ctx, p.UserID)
	if err != nil {
		return offer.ReportRow{}, nil, err
	}
	events, err := src.Events(ctx, p.UserID, time.Time{})
	if err != nil {
		return offer.ReportRow{}, nil, err
	}
	oimps := make([]offer.Impression, len(imps))
	byOffer := map[string]*offer.ReportRow{}
	for i, imp := range imps {
		oimps[i] = offer.Impression{OfferID: imp.OfferID, TurnID: imp.TurnID, Time: imp.Time}
		row := byOffer[imp.OfferID]
		if row == nil {
			row = &offer.ReportRow{Variant: variant, OfferID: imp.OfferID, Conversations: 1}
			byOffer[imp.OfferID] = row
		}
		row.Impressions++
	}
	conv := offer.ReportRow{Variant: variant, Conversations: 1}
	converted := map[string]bool{}
	for _, ev := range events {
		if ev.Type == offer.EventPurchase {
			conv.Conversions = 1
			conv.Revenue += ev.Value
		}
		id, _, ok := offer.Attribute(oimps, offer.Event{Type: ev.Type, OfferID: ev.OfferID,
			Value: ev.Value, Time: ev.Time}, opts.AttributionWindow)
		if !ok {
			continue
		}
		row := byOffer[id]
		switch ev.Type {
		case offer.EventOfferClick:
			row.Clicks++
		case offer.EventOfferRedeem:
			row.Redemptions++
		case offer.EventPurchase:
			if !converted[id] {
				converted[id] = true
				row.Conversions = 1
			}
			row.Revenue += ev.Value
		}
	}
	var rows []offer.ReportRow
	for _, row := range byOffer {
		conv.Impressions += row.Impressions
		conv.Clicks += row.Clicks
		conv.Redemptions += row.Redemptions
		rows = append(rows, *row)
	}
	return conv, rows, nil
}
