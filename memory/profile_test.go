package memory_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
)

func TestTouchCreatesAndBumpsProfile(t *testing.T) {
	s, clk := openClocked(t)
	ctx := t.Context()

	first := clk.t.Add(clk.step)
	p, convID, err := s.Touch(ctx, "u1", memory.Visit{Locale: "zh-CN", Timezone: "Asia/Shanghai", Country: "CN"})
	if err != nil {
		t.Fatalf("first touch: %v", err)
	}
	if p.Visits != 1 || !p.FirstSeen.Equal(first) || !p.LastSeen.Equal(first) {
		t.Errorf("after first touch: visits %d, first seen %v, last seen %v; want 1, %v, %v",
			p.Visits, p.FirstSeen, p.LastSeen, first, first)
	}
	if convID != memory.ConversationID("u1") || convID == memory.ConversationID("u2") {
		t.Errorf("conversation id %q is not the stable id of u1", convID)
	}

	// A reconnect a second later is the same visit.
	p, _, err = s.Touch(ctx, "u1", memory.Visit{})
	if err != nil {
		t.Fatalf("reconnect touch: %v", err)
	}
	if p.Visits != 1 {
		t.Errorf("visits after a reconnect within VisitGap = %d, want 1", p.Visits)
	}

	clk.Set(p.LastSeen.Add(memory.VisitGap))
	p, again, err := s.Touch(ctx, "u1", memory.Visit{Locale: "en-US"})
	if err != nil {
		t.Fatalf("second touch: %v", err)
	}
	if again != convID {
		t.Errorf("conversation id changed from %q to %q", convID, again)
	}
	if p.Visits != 2 || !p.FirstSeen.Equal(first) || !p.LastSeen.After(first) {
		t.Errorf("after second touch: visits %d, first seen %v, last seen %v", p.Visits, p.FirstSeen, p.LastSeen)
	}
	if p.Locale != "en-US" || p.Timezone != "Asia/Shanghai" || p.Country != "CN" {
		t.Errorf("locale, timezone, country = %q, %q, %q; want en-US, Asia/Shanghai, CN", p.Locale, p.Timezone, p.Country)
	}

	stored, err := s.Profile(ctx, "u1")
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	if stored.Visits != 2 {
		t.Errorf("stored visits = %d, want 2", stored.Visits)
	}
}

func TestProfileUnknownUserNotFound(t *testing.T) {
	s, _ := openClocked(t)
	if _, err := s.Profile(t.Context(), "nobody"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("Profile(nobody) error = %v, want ErrNotFound", err)
	}
	_, err := s.UpdateProfile(t.Context(), "nobody", func(*memory.Profile) error { return nil })
	if !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("UpdateProfile(nobody) error = %v, want ErrNotFound", err)
	}
	if err := s.SetHandedOver(t.Context(), "nobody", true); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("SetHandedOver(nobody) error = %v, want ErrNotFound", err)
	}
}

func TestUpdateProfile(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	if _, _, err := s.Touch(ctx, "u1", memory.Visit{}); err != nil {
		t.Fatalf("touch: %v", err)
	}

	p, err := s.UpdateProfile(ctx, "u1", func(p *memory.Profile) error {
		p.Budget = 300
		p.Segment = "bargain_hunter"
		if p.CategoryAffinity == nil {
			p.CategoryAffinity = map[string]float64{}
		}
		p.CategoryAffinity["shoes/running"] += 2.5
		p.UserID = "someone_else"
		return nil
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if p.UserID != "u1" {
		t.Errorf("UserID after update = %q, want u1", p.UserID)
	}

	stored, err := s.Profile(ctx, "u1")
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	if stored.Budget != 300 || stored.Segment != "bargain_hunter" || stored.CategoryAffinity["shoes/running"] != 2.5 {
		t.Errorf("stored profile = %+v, want budget 300, segment bargain_hunter, affinity 2.5", stored)
	}

	errBoom := errors.New("boom")
	_, err = s.UpdateProfile(ctx, "u1", func(p *memory.Profile) error {
		p.Budget = 1
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("update with failing fn: %v, want errBoom", err)
	}
	stored, err = s.Profile(ctx, "u1")
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	if stored.Budget != 300 {
		t.Errorf("budget after failed update = %v, want 300 unchanged", stored.Budget)
	}
}

func TestTurnsCountsAssistantReplies(t *testing.T) {
	s, _ := openClocked(t)
	msg := appendUser(t, s, "u1", "", "hi")
	appendAssistant(t, s, "u1", "hello", &memory.TurnRecord{TurnID: "t1", InReplyTo: msg.Seq})
	if _, err := s.AppendReply(t.Context(), "u1", memory.RoleAgent, "staff here", nil); err != nil {
		t.Fatalf("agent reply: %v", err)
	}
	p, err := s.Profile(t.Context(), "u1")
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	if p.Turns != 1 {
		t.Errorf("turns = %d, want 1", p.Turns)
	}
}

func TestUsersIteratesAllPages(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	const n = 600 // more than two pages of 256
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("user%04d", i))
	}
	// Touch from several goroutines so batched commits keep the test fast.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				if _, _, err := s.Touch(ctx, want[i], memory.Visit{}); err != nil {
					t.Errorf("touch %s: %v", want[i], err)
					return
				}
			}
		})
	}
	wg.Wait()

	var got []string
	err := s.Users(ctx, func(p memory.Profile) error {
		got = append(got, p.UserID)
		return nil
	})
	if err != nil {
		t.Fatalf("users: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("users returned %d ids (first %v), want %d in order", len(got), got[:min(3, len(got))], n)
	}

	errStop := errors.New("stop")
	count := 0
	err = s.Users(ctx, func(memory.Profile) error {
		count++
		if count == 10 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || count != 10 {
		t.Errorf("users with stopping fn: err %v after %d calls, want errStop after 10", err, count)
	}
}

func TestEventsSince(t *testing.T) {
	s, clk := openClocked(t)
	ctx := t.Context()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, typ := range []string{"page_view", "product_view", "add_to_cart", "purchase"} {
		ev := memory.Event{Type: typ, Time: base.Add(time.Duration(i) * time.Hour), ProductID: fmt.Sprint("p", i)}
		if err := s.AppendEvent(ctx, "u1", ev); err != nil {
			t.Fatalf("append %s: %v", typ, err)
		}
	}
	clk.Set(base.Add(10 * time.Hour))
	if err := s.AppendEvent(ctx, "u1", memory.Event{Type: "checkout"}); err != nil {
		t.Fatalf("append event without time: %v", err)
	}

	tests := []struct {
		name  string
		since time.Time
		want  []string
	}{
		{name: "all", since: time.Time{}, want: []string{"page_view", "product_view", "add_to_cart", "purchase", "checkout"}},
		{name: "inclusive_bound", since: base.Add(2 * time.Hour), want: []string{"add_to_cart", "purchase", "checkout"}},
		{name: "clock_time", since: base.Add(9 * time.Hour), want: []string{"checkout"}},
		{name: "future", since: base.Add(24 * time.Hour), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := s.Events(t.Context(), "u1", tt.since)
			if err != nil {
				t.Fatalf("events since %v: %v", tt.since, err)
			}
			var got []string
			for _, ev := range events {
				got = append(got, ev.Type)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events since %v = %v, want %v", tt.since, got, tt.want)
			}
		})
	}
}

func TestFeedbackEventSetsReplyFeedback(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	msg := appendUser(t, s, "u1", "", "recommend a tent")
	reply := appendAssistant(t, s, "u1", "try this tent", &memory.TurnRecord{TurnID: "turn-9", InReplyTo: msg.Seq})

	if err := s.AppendEvent(ctx, "u1", memory.Event{Type: "feedback", TurnID: "turn-9", Rating: -1}); err != nil {
		t.Fatalf("append feedback: %v", err)
	}
	if err := s.AppendEvent(ctx, "u1", memory.Event{Type: "feedback", TurnID: "unknown", Rating: 1}); err != nil {
		t.Fatalf("append feedback for unknown turn: %v", err)
	}

	history, err := s.History(ctx, "u1", reply.Seq-1, 1)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(history) != 1 || history[0].Feedback != -1 {
		t.Errorf("reply after feedback = %+v, want Feedback -1", history)
	}
}

func TestAnnotateMessage(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	msg := appendUser(t, s, "u1", "", "this is broken")

	err := s.Annotate(ctx, "u1", msg.Seq, memory.Annotation{Label: "complaint", Note: "follow up", Author: "staff1"})
	if err != nil {
		t.Fatalf("annotate: %v", err)
	}
	if err := s.Annotate(ctx, "u1", msg.Seq, memory.Annotation{Label: "resolved"}); err != nil {
		t.Fatalf("second annotate: %v", err)
	}
	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	got := history[0].Annotations
	if len(got) != 2 || got[0].Label != "complaint" || got[0].Author != "staff1" || got[1].Label != "resolved" {
		t.Errorf("annotations = %+v, want complaint by staff1 then resolved", got)
	}
	if got[0].Time.IsZero() {
		t.Error("annotation time is zero, want the store clock's time")
	}

	if err := s.Annotate(ctx, "u1", 99, memory.Annotation{Label: "x"}); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("annotate missing seq: %v, want ErrNotFound", err)
	}
	if err := s.Annotate(ctx, "nobody", 1, memory.Annotation{Label: "x"}); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("annotate unknown user: %v, want ErrNotFound", err)
	}
}
