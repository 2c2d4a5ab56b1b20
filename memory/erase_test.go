package memory_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
)

// fileContains reports whether the raw bytes of the file at path contain s.
func fileContains(t *testing.T, path, s string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return bytes.Contains(data, []byte(s))
}

func TestEraseLeavesNoTraceInFile(t *testing.T) {
	path := tempPath(t)
	s := openFile(t, path, memory.Options{})
	ctx := t.Context()

	const secret = "zq7-unique-marker-4711"
	const cjkSecret = "独一无二的秘密暗号"
	const victim = "victim-user-93"
	if _, _, err := s.Touch(ctx, victim, memory.Visit{Locale: "zh-CN"}); err != nil {
		t.Fatalf("touch: %v", err)
	}
	msg := appendUser(t, s, victim, "client-"+secret, "my code is "+secret+" "+cjkSecret)
	appendAssistant(t, s, victim, "noted "+secret, &memory.TurnRecord{TurnID: "turn-" + secret, InReplyTo: msg.Seq, OfferID: "spring10"})
	if err := s.AppendEvent(ctx, victim, memory.Event{Type: "product_view", ProductID: "p-" + secret}); err != nil {
		t.Fatalf("append event: %v", err)
	}
	if err := s.RecordImpression(ctx, victim, memory.Impression{OfferID: "spring10", TurnID: "turn-" + secret}); err != nil {
		t.Fatalf("record impression: %v", err)
	}
	if err := s.Annotate(ctx, victim, msg.Seq, memory.Annotation{Note: "note " + secret}); err != nil {
		t.Fatalf("annotate: %v", err)
	}
	// Another user stays.
	appendUser(t, s, "bystander", "", "keep my message")

	if !fileContains(t, path, secret) {
		t.Fatal("the secret is not in the file before erasing, so the test proves nothing")
	}

	if err := s.Erase(ctx, victim); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := s.Profile(ctx, victim); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("profile after erase: %v, want ErrNotFound", err)
	}
	list, _, err := s.Conversations(ctx, memory.ConversationQuery{})
	if err != nil {
		t.Fatalf("list after erase: %v", err)
	}
	if got := conversationUsers(list); !slices.Equal(got, []string{"bystander"}) {
		t.Errorf("conversations after erase = %v, want [bystander]", got)
	}
	found, _, err := s.Conversations(ctx, memory.ConversationQuery{Text: cjkSecret})
	if err != nil {
		t.Fatalf("search after erase: %v", err)
	}
	if len(found) != 0 {
		t.Errorf("search for erased text found %v", conversationUsers(found))
	}
	if err := s.Check(); err != nil {
		t.Errorf("check after erase: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	for _, needle := range []string{secret, cjkSecret, victim, "独一", "my code is"} {
		if fileContains(t, path, needle) {
			t.Errorf("file still contains %q after erase", needle)
		}
	}
	if !fileContains(t, path, "keep my message") {
		t.Error("file lost the bystander's message")
	}

	s = openFile(t, path, memory.Options{})
	history, err := s.History(ctx, "bystander", 0, 0)
	if err != nil {
		t.Fatalf("history after reopen: %v", err)
	}
	if len(history) != 1 {
		t.Errorf("bystander has %d messages after reopen, want 1", len(history))
	}
	totals, err := s.OfferTotals(ctx)
	if err != nil {
		t.Fatalf("totals: %v", err)
	}
	if totals["spring10"] != 1 {
		t.Errorf("spring10 total after erase = %d, want 1 (counters are kept)", totals["spring10"])
	}
}

func TestEraseKeepsStoreUsable(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	appendUser(t, s, "u1", "c1", "hello")
	if err := s.Erase(ctx, "u1"); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if err := s.Erase(ctx, "u1"); err != nil {
		t.Errorf("second erase: %v, want nil", err)
	}
	// The user starts over: the old client id no longer de-duplicates.
	msg, prior, err := s.AppendUserMessage(ctx, "u1", "c1", "hello again")
	if err != nil {
		t.Fatalf("append after erase: %v", err)
	}
	if msg.Seq != 1 || msg.Text != "hello again" || prior != nil {
		t.Errorf("append after erase = %+v, prior %v; want a new message with seq 1", msg, prior)
	}
}

func TestPurgeBefore(t *testing.T) {
	path := tempPath(t)
	clk := newClock()
	s := openFile(t, path, memory.Options{Now: clk.Now})
	ctx := t.Context()

	day := func(d int) time.Time { return time.Date(2025, 1, d, 10, 0, 0, 0, time.UTC) }

	clk.Set(day(1))
	old := appendUser(t, s, "u1", "old-client", "ancient message qx-purge-me")
	appendAssistant(t, s, "u1", "ancient reply", &memory.TurnRecord{TurnID: "old-turn", InReplyTo: old.Seq, ScenarioLabel: "stale_label"})
	appendUser(t, s, "u2", "", "only old text zz-gone")
	if err := s.AppendEvent(ctx, "u1", memory.Event{Type: "page_view", Time: day(1)}); err != nil {
		t.Fatalf("append event: %v", err)
	}
	if _, err := s.UpdateProfile(ctx, "u2", func(p *memory.Profile) error {
		p.Summary = "summary of zz-gone"
		return nil
	}); err != nil {
		t.Fatalf("set summary: %v", err)
	}

	clk.Set(day(20))
	recent := appendUser(t, s, "u1", "new-client", "recent message")
	if err := s.AppendEvent(ctx, "u1", memory.Event{Type: "purchase", Time: day(20)}); err != nil {
		t.Fatalf("append event: %v", err)
	}

	n, err := s.PurgeBefore(ctx, day(10))
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if n != 3 {
		t.Errorf("purged %d messages, want 3", n)
	}

	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(history) != 1 || history[0].Seq != recent.Seq {
		t.Errorf("u1 history after purge = %v, want only seq %d", seqs(history), recent.Seq)
	}
	events, err := s.Events(ctx, "u1", time.Time{})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	if len(events) != 1 || events[0].Type != "purchase" {
		t.Errorf("events after purge = %+v, want only the purchase", events)
	}

	// A purged client id is forgotten, and seqs are not reused.
	again, prior, err := s.AppendUserMessage(ctx, "u1", "old-client", "ancient message")
	if err != nil {
		t.Fatalf("append with purged client id: %v", err)
	}
	if again.Seq != recent.Seq+1 || prior != nil {
		t.Errorf("append with purged client id = seq %d prior %v, want new seq %d", again.Seq, prior, recent.Seq+1)
	}

	list, _, err := s.Conversations(ctx, memory.ConversationQuery{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got := conversationUsers(list); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("conversations after purge = %v, want [u1]", got)
	}
	if len(list) == 1 && (list[0].Messages != 2 || slices.Contains(list[0].ScenarioLabels, "stale_label")) {
		t.Errorf("u1 summary after purge = %+v, want 2 messages and no stale label", list[0])
	}
	found, _, err := s.Conversations(ctx, memory.ConversationQuery{Text: "ancient"})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	// "ancient" was stored again after the purge, so only that match remains.
	if got := conversationUsers(found); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("search ancient = %v, want [u1]", got)
	}
	found, _, err = s.Conversations(ctx, memory.ConversationQuery{Text: "zz-gone"})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(found) != 0 {
		t.Errorf("search for purged text found %v", conversationUsers(found))
	}

	p, err := s.Profile(ctx, "u2")
	if err != nil {
		t.Fatalf("profile of u2: %v", err)
	}
	if p.Summary != "" {
		t.Errorf("u2 summary after purging all messages = %q, want empty", p.Summary)
	}
	if err := s.Check(); err != nil {
		t.Errorf("check: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, needle := range []string{"qx-purge-me", "zz-gone", "ancient reply"} {
		if fileContains(t, path, needle) {
			t.Errorf("file still contains %q after purge", needle)
		}
	}
}

func TestPurgeBeforeNothingOld(t *testing.T) {
	s, _ := openClocked(t)
	appendUser(t, s, "u1", "", "fresh")
	n, err := s.PurgeBefore(t.Context(), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if n != 0 {
		t.Errorf("purged %d messages, want 0", n)
	}
	history, err := s.History(t.Context(), "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(history) != 1 || !strings.Contains(history[0].Text, "fresh") {
		t.Errorf("history after empty purge = %+v, want the fresh message", history)
	}
}

func TestEraseDuringConcurrentWrites(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	appendUser(t, s, "victim", "", "to be erased")

	const writers, each = 4, 30
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			userID := fmt.Sprintf("writer%d", w)
			for i := range each {
				if _, _, err := s.AppendUserMessage(ctx, userID, fmt.Sprint(i), "message"); err != nil {
					t.Errorf("append for %s: %v", userID, err)
					return
				}
			}
		})
	}
	for range 3 {
		if err := s.Erase(ctx, "victim"); err != nil {
			t.Errorf("erase: %v", err)
		}
	}
	wg.Wait()

	for w := range writers {
		userID := fmt.Sprintf("writer%d", w)
		history, err := s.History(ctx, userID, 0, 0)
		if err != nil {
			t.Fatalf("history of %s: %v", userID, err)
		}
		if len(history) != each {
			t.Errorf("%s has %d messages after concurrent erase, want %d", userID, len(history), each)
		}
	}
}
