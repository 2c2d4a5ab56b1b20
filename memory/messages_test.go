package memory_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

func TestAppendAssignsIncreasingSeq(t *testing.T) {
	s := memtest.Open(t)
	ctx := t.Context()

	u1 := appendUser(t, s, "u1", "c1", "hello")
	r1 := appendAssistant(t, s, "u1", "hi there", &memory.TurnRecord{TurnID: "t1", InReplyTo: u1.Seq})
	u2 := appendUser(t, s, "u1", "", "shoes please")
	other := appendUser(t, s, "u2", "", "another user")

	if got := []uint64{u1.Seq, r1.Seq, u2.Seq}; !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Errorf("seqs of u1 = %v, want [1 2 3]", got)
	}
	if other.Seq != 1 {
		t.Errorf("first seq of u2 = %d, want 1", other.Seq)
	}

	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if got := seqs(history); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("history seqs = %v, want [1 2 3]", got)
	}
	if history[1].Role != memory.RoleAssistant || history[1].Turn == nil || history[1].Turn.TurnID != "t1" {
		t.Errorf("history[1] = %+v, want assistant reply with turn t1", history[1])
	}
	if history[0].ClientID != "c1" {
		t.Errorf("history[0].ClientID = %q, want c1", history[0].ClientID)
	}
}

func TestAppendUserMessageDeduplicates(t *testing.T) {
	s := memtest.Open(t)
	ctx := t.Context()

	first := appendUser(t, s, "u1", "c1", "where is my order")

	again, prior, err := s.AppendUserMessage(ctx, "u1", "c1", "where is my order")
	if err != nil {
		t.Fatalf("append duplicate: %v", err)
	}
	if again.Seq != first.Seq {
		t.Errorf("duplicate seq = %d, want earlier seq %d", again.Seq, first.Seq)
	}
	if prior != nil {
		t.Errorf("prior = %+v before any reply, want nil", prior)
	}

	reply := appendAssistant(t, s, "u1", "it ships today", &memory.TurnRecord{TurnID: "t1", InReplyTo: first.Seq})
	_, prior, err = s.AppendUserMessage(ctx, "u1", "c1", "where is my order")
	if err != nil {
		t.Fatalf("append duplicate after reply: %v", err)
	}
	if prior == nil || prior.Seq != reply.Seq || prior.Text != "it ships today" {
		t.Errorf("prior = %+v, want reply seq %d", prior, reply.Seq)
	}

	// The same client id from another user is a different message.
	otherUser := appendUser(t, s, "u2", "c1", "hi")
	if otherUser.Seq != 1 {
		t.Errorf("u2 seq = %d, want 1", otherUser.Seq)
	}
	// Empty client ids are never de-duplicated.
	a := appendUser(t, s, "u1", "", "same")
	b := appendUser(t, s, "u1", "", "same")
	if a.Seq == b.Seq {
		t.Errorf("two messages without client id share seq %d", a.Seq)
	}

	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(history) != 4 {
		t.Errorf("history has %d messages, want 4 (one per distinct message)", len(history))
	}
}

func TestAppendUserMessageConcurrentDuplicates(t *testing.T) {
	s := memtest.Open(t)
	ctx := t.Context()

	const rounds = 50
	results := make([][2]uint64, rounds)
	for i := range rounds {
		var wg sync.WaitGroup
		clientID := fmt.Sprintf("c%d", i)
		for g := range 2 {
			wg.Go(func() {
				msg, _, err := s.AppendUserMessage(ctx, "u1", clientID, "text "+clientID)
				if err != nil {
					t.Errorf("append %s: %v", clientID, err)
					return
				}
				results[i][g] = msg.Seq
			})
		}
		wg.Wait()
	}

	for i, r := range results {
		if r[0] != r[1] {
			t.Errorf("round %d: duplicates got seqs %d and %d, want one seq", i, r[0], r[1])
		}
	}
	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(history) != rounds {
		t.Fatalf("history has %d messages, want %d", len(history), rounds)
	}
	for i, m := range history {
		if m.Seq != uint64(i+1) {
			t.Errorf("history[%d].Seq = %d, want %d", i, m.Seq, i+1)
		}
	}
}

func TestAppendConcurrentUsersKeepsSeqDense(t *testing.T) {
	s := memtest.Open(t)
	ctx := t.Context()

	const users, perUser = 8, 25
	var wg sync.WaitGroup
	for u := range users {
		for range 2 {
			wg.Go(func() {
				for i := range perUser {
					userID := fmt.Sprintf("u%d", u)
					_, _, err := s.AppendUserMessage(ctx, userID, "", fmt.Sprint(i))
					if err != nil {
						t.Errorf("append for %s: %v", userID, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()

	for u := range users {
		userID := fmt.Sprintf("u%d", u)
		history, err := s.History(ctx, userID, 0, 0)
		if err != nil {
			t.Fatalf("history of %s: %v", userID, err)
		}
		if len(history) != 2*perUser {
			t.Errorf("%s has %d messages, want %d", userID, len(history), 2*perUser)
		}
		for i, m := range history {
			if m.Seq != uint64(i+1) {
				t.Errorf("%s history[%d].Seq = %d, want %d", userID, i, m.Seq, i+1)
				break
			}
		}
	}
}

func TestHistoryAfterSeqAndLimit(t *testing.T) {
	s := memtest.Open(t)
	for i := range 10 {
		appendUser(t, s, "u1", "", fmt.Sprintf("message %d", i+1))
	}

	tests := []struct {
		name     string
		afterSeq uint64
		limit    int
		want     []uint64
	}{
		{name: "all", afterSeq: 0, limit: 0, want: []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{name: "resume_after_seq", afterSeq: 7, limit: 0, want: []uint64{8, 9, 10}},
		{name: "resume_with_limit", afterSeq: 3, limit: 2, want: []uint64{4, 5}},
		{name: "after_last", afterSeq: 10, limit: 0, want: []uint64{}},
		{name: "after_max_uint64", afterSeq: ^uint64(0), limit: 0, want: []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.History(t.Context(), "u1", tt.afterSeq, tt.limit)
			if err != nil {
				t.Fatalf("History(%d, %d): %v", tt.afterSeq, tt.limit, err)
			}
			if !slices.Equal(seqs(got), tt.want) {
				t.Errorf("History(%d, %d) seqs = %v, want %v", tt.afterSeq, tt.limit, seqs(got), tt.want)
			}
		})
	}
}

func TestRecentReturnsLastInOrder(t *testing.T) {
	s := memtest.Open(t)
	for i := range 5 {
		appendUser(t, s, "u1", "", fmt.Sprint(i))
	}

	tests := []struct {
		name string
		n    int
		want []uint64
	}{
		{name: "last_three", n: 3, want: []uint64{3, 4, 5}},
		{name: "more_than_stored", n: 9, want: []uint64{1, 2, 3, 4, 5}},
		{name: "zero", n: 0, want: []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Recent(t.Context(), "u1", tt.n)
			if err != nil {
				t.Fatalf("Recent(%d): %v", tt.n, err)
			}
			if !slices.Equal(seqs(got), tt.want) {
				t.Errorf("Recent(%d) seqs = %v, want %v", tt.n, seqs(got), tt.want)
			}
		})
	}
}

func TestHistoryUnknownUserIsEmpty(t *testing.T) {
	s := memtest.Open(t)
	got, err := s.History(t.Context(), "nobody", 0, 0)
	if err != nil {
		t.Fatalf("history of unknown user: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("history of unknown user = %v, want empty", got)
	}
}

func TestHistorySurvivesRestart(t *testing.T) {
	path := tempPath(t)
	s, err := memory.Open(path, memory.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx := t.Context()
	first := appendUser(t, s, "u1", "c1", "before restart")
	appendAssistant(t, s, "u1", "reply before restart", &memory.TurnRecord{TurnID: "t1", InReplyTo: first.Seq})
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v, want nil", err)
	}
	if _, err := s.History(ctx, "u1", 0, 0); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("history after close: %v, want ErrClosed", err)
	}

	s = openFile(t, path, memory.Options{})
	history, err := s.History(ctx, "u1", 0, 0)
	if err != nil {
		t.Fatalf("history after reopen: %v", err)
	}
	if len(history) != 2 || history[0].Text != "before restart" || history[1].Text != "reply before restart" {
		t.Fatalf("history after reopen = %+v, want both messages", history)
	}
	next := appendUser(t, s, "u1", "c2", "after restart")
	if next.Seq != 3 {
		t.Errorf("seq after reopen = %d, want 3", next.Seq)
	}
	_, prior, err := s.AppendUserMessage(ctx, "u1", "c1", "before restart")
	if err != nil {
		t.Fatalf("append duplicate after reopen: %v", err)
	}
	if prior == nil || prior.Seq != 2 {
		t.Errorf("prior after reopen = %+v, want reply seq 2", prior)
	}
	if err := s.Check(); err != nil {
		t.Errorf("check: %v", err)
	}
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	path := tempPath(t)
	openFile(t, path, memory.Options{})
	_, err := memory.Open(path, memory.Options{LockTimeout: 50_000_000})
	if err == nil {
		t.Fatal("second open of a locked file succeeded, want a timeout error")
	}
}

func TestAppendReplyRejectsUserRole(t *testing.T) {
	s := memtest.Open(t)
	_, err := s.AppendReply(t.Context(), "u1", memory.RoleUser, "text", nil)
	if err == nil || !strings.Contains(err.Error(), "invalid role") {
		t.Errorf("AppendReply with role user: %v, want invalid role error", err)
	}
}

func TestMaskStoredAppliesToText(t *testing.T) {
	s := memtest.OpenOptions(t, memory.Options{MaskStored: func(text string) string {
		return strings.ReplaceAll(text, "alice@example.com", "[email]")
	}})
	appendUser(t, s, "u1", "", "mail alice@example.com please")
	if _, err := s.AppendReply(t.Context(), "u1", memory.RoleAgent, "sent to alice@example.com", nil); err != nil {
		t.Fatalf("append agent reply: %v", err)
	}

	history, err := s.History(t.Context(), "u1", 0, 0)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	for _, m := range history {
		if strings.Contains(m.Text, "alice@example.com") {
			t.Errorf("stored %s text %q contains the unmasked email", m.Role, m.Text)
		}
	}
	if history[0].Text != "mail [email] please" {
		t.Errorf("stored text = %q, want %q", history[0].Text, "mail [email] please")
	}
}
