package memory_test

import (
	"errors"
	"testing"

	"github.com/concierge-chat/concierge/memory"
)

func TestFinishTurnStoresAllTogether(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	user, _, err := s.AppendUserMessage(ctx, "u1", "m1", "boots under 100")
	if err != nil {
		t.Fatal(err)
	}
	rec := &memory.TurnRecord{TurnID: "t1", InReplyTo: user.Seq, Provider: "offline"}
	imp := &memory.Impression{OfferID: "welcome10", TurnID: "t1"}
	msg, err := s.FinishTurn(ctx, "u1", "Here are boots", rec, imp, func(p *memory.Profile) error {
		p.Budget = 100
		return nil
	})
	if err != nil {
		t.Fatalf("FinishTurn: %v", err)
	}
	if msg.Seq != user.Seq+1 || msg.Role != memory.RoleAssistant {
		t.Errorf("reply seq, role = %d, %s; want %d, assistant", msg.Seq, msg.Role, user.Seq+1)
	}
	p, err := s.Profile(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Turns != 1 || p.Budget != 100 {
		t.Errorf("profile turns, budget = %d, %g; want 1, 100", p.Turns, p.Budget)
	}
	imps, err := s.Impressions(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(imps) != 1 || imps[0].OfferID != "welcome10" || imps[0].Time.IsZero() {
		t.Errorf("impressions = %+v, want one welcome10 with a time", imps)
	}
	// A repeated message id now finds the stored reply.
	_, prior, err := s.AppendUserMessage(ctx, "u1", "m1", "boots under 100")
	if err != nil {
		t.Fatal(err)
	}
	if prior == nil || prior.Seq != msg.Seq {
		t.Errorf("prior reply of m1 = %+v, want seq %d", prior, msg.Seq)
	}
}

func TestFinishTurnRollsBackOnUpdateError(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	user, _, err := s.AppendUserMessage(ctx, "u1", "m1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	rec := &memory.TurnRecord{TurnID: "t1", InReplyTo: user.Seq, Provider: "offline"}
	imp := &memory.Impression{OfferID: "welcome10", TurnID: "t1"}
	boom := errors.New("boom")
	_, err = s.FinishTurn(ctx, "u1", "hi", rec, imp, func(*memory.Profile) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("FinishTurn error = %v, want boom", err)
	}
	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 {
		t.Errorf("history has %d messages, want only the user message", len(history))
	}
	totals, err := s.OfferTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if totals["welcome10"] != 0 {
		t.Errorf("offer total = %d, want 0 after a rolled-back turn", totals["welcome10"])
	}
}

func TestDecisionDetailsOnlyInTranscript(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	user, _, err := s.AppendUserMessage(ctx, "u1", "m1", "boots")
	if err != nil {
		t.Fatal(err)
	}
	details := []byte(`{"scenario":{"label":"browsing"}}`)
	rec := &memory.TurnRecord{TurnID: "t1", InReplyTo: user.Seq, Provider: "offline", Details: details}
	if _, err := s.FinishTurn(ctx, "u1", "Here are boots", rec, nil, nil); err != nil {
		t.Fatal(err)
	}
	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[1].Turn == nil || history[1].Turn.TurnID != "t1" {
		t.Fatalf("history = %+v, want the reply with its turn record", history)
	}
	if len(history[1].Turn.Details) != 0 {
		t.Errorf("History details = %s, want none", history[1].Turn.Details)
	}
	_, msgs, _, err := s.Transcript(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msgs[1].Turn.Details); got != string(details) {
		t.Errorf("Transcript details = %s, want %s", got, details)
	}
}
