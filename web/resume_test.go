package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

func TestResumeAfterReturnsLaterMessages(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US"})
	texts := []string{"waterproof boots under $150", "a wool scarf for winter", "a tea set as a gift"}
	var ends []protocol.ReplyEnd
	for i, text := range texts {
		ends = append(ends, c.Ask(t, fmt.Sprintf("m-%d", i+1), text).End)
	}

	tests := []struct {
		name        string
		resumeAfter uint64
		wantSeqs    []uint64
	}{
		{name: "from_start", resumeAfter: 0, wantSeqs: []uint64{1, 2, 3, 4, 5, 6}},
		{name: "after_first_turn", resumeAfter: 2, wantSeqs: []uint64{3, 4, 5, 6}},
		{name: "mid_turn", resumeAfter: 5, wantSeqs: []uint64{6}},
		{name: "up_to_date", resumeAfter: 6, wantSeqs: nil},
		{name: "ahead_of_server", resumeAfter: 99, wantSeqs: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c2 := wstest.Dial(t, e.URL)
			got := c2.Hello(t, protocol.Hello{VisitorID: ready.VisitorID, ResumeAfter: tt.resumeAfter})
			var seqs []uint64
			for _, m := range got.History {
				seqs = append(seqs, m.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.wantSeqs) {
				t.Fatalf("history seqs = %v, want %v", seqs, tt.wantSeqs)
			}
			for _, m := range got.History {
				turn := int(m.Seq-1) / 2
				switch m.Role {
				case "user":
					if m.Seq%2 != 1 || m.Text != texts[turn] {
						t.Errorf("seq %d user text = %q, want %q", m.Seq, m.Text, texts[turn])
					}
				case "assistant":
					if m.Text != ends[turn].Text || m.TurnID != ends[turn].TurnID {
						t.Errorf("seq %d assistant = %q %s, want %q %s", m.Seq, m.Text, m.TurnID, ends[turn].Text, ends[turn].TurnID)
					}
				default:
					t.Errorf("seq %d has role %q", m.Seq, m.Role)
				}
			}
		})
	}
}

// TestResentMessageIsAnsweredOnce resends a message id after reconnecting:
// the stored reply comes back marked duplicate and the model is not called
// again.
func TestResentMessageIsAnsweredOnce(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"The Trail ", "Waterproof Boot is $129."}})
	e := newEnv(t, envOptions{fake: fake})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US"})
	first := c.Ask(t, "m-1", "waterproof boots under $150")
	c.Close()

	c2 := wstest.Dial(t, e.URL)
	c2.Hello(t, protocol.Hello{VisitorID: ready.VisitorID, ResumeAfter: first.End.Seq})
	c2.SendMessage(t, "m-1", "waterproof boots under $150")
	f := c2.NextFrame(t)
	if f.Type != protocol.TypeReplyEnd {
		t.Fatalf("resent message got %s frame %s, want reply.end without reply.start", f.Type, f.Raw)
	}
	var dup protocol.ReplyEnd
	f.Decode(t, &dup)
	if !dup.Duplicate {
		t.Error("reply.end to a resent id has duplicate = false")
	}
	if dup.Seq != first.End.Seq {
		t.Errorf("duplicate seq = %d, want %d", dup.Seq, first.End.Seq)
	}
	if dup.TurnID != first.End.TurnID {
		t.Errorf("duplicate turn_id = %q, want %q", dup.TurnID, first.End.TurnID)
	}
	if dup.Text != first.End.Text {
		t.Errorf("duplicate text = %q, want %q", dup.Text, first.End.Text)
	}
	if len(dup.Products) != len(first.End.Products) {
		t.Errorf("duplicate reply has %d cards, want %d", len(dup.Products), len(first.End.Products))
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("fake LLM got %d requests, want 1", n)
	}
	if n := len(e.history(ready.UserID)); n != 2 {
		t.Errorf("stored %d messages, want 2 (the resend stores nothing)", n)
	}

	// A new id after the duplicate gets a normal reply with the next seqs.
	next := c2.Ask(t, "m-2", "a wool scarf")
	if next.Start.UserSeq != 3 {
		t.Errorf("next turn user_seq = %d, want 3", next.Start.UserSeq)
	}
	if next.End.Seq != 4 {
		t.Errorf("next turn seq = %d, want 4", next.End.Seq)
	}
	if next.End.Duplicate {
		t.Error("next turn is marked duplicate")
	}
}

// TestResentUnansweredMessageRunsTurn covers a message stored before the
// server stopped, with no reply: resending its id runs the turn on the
// stored message.
func TestResentUnansweredMessageRunsTurn(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US"})
	msg, prior, err := e.store.AppendUserMessage(context.Background(), ready.UserID, "m-lost", "a wool scarf")
	if err != nil || prior != nil {
		t.Fatalf("store unanswered message: prior %v, error %v", prior, err)
	}

	r := c.Ask(t, "m-lost", "a wool scarf")
	if r.End.Duplicate {
		t.Error("reply to an unanswered message is marked duplicate")
	}
	if r.Start.UserSeq != msg.Seq {
		t.Errorf("user_seq = %d, want the stored message's seq %d", r.Start.UserSeq, msg.Seq)
	}
	msgs := e.history(ready.UserID)
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages, want the user message and one reply", len(msgs))
	}
	if got := storedReply(t, msgs, msg.Seq); got.Seq != r.End.Seq {
		t.Errorf("stored reply seq = %d, want %d", got.Seq, r.End.Seq)
	}
}

func TestQuickMessagesAnsweredInOrder(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	// The first reply is slow, so the later messages queue behind it.
	fake.Script(llmtest.Reply{Chunks: []string{"first ", "reply"}, FirstTokenDelay: 100 * time.Millisecond})
	e := newEnv(t, envOptions{fake: fake})
	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{Locale: "en-US"})

	ids := []string{"q-1", "q-2", "q-3", "q-4"}
	for i, id := range ids {
		c.SendMessage(t, id, fmt.Sprintf("message number %d about boots", i+1))
	}
	var lastSeq uint64
	for i, id := range ids {
		r := c.ReadReply(t, id)
		if want := uint64(2*i + 1); r.Start.UserSeq != want {
			t.Errorf("%s user_seq = %d, want %d", id, r.Start.UserSeq, want)
		}
		if r.End.Seq <= lastSeq {
			t.Errorf("%s seq = %d, not after %d", id, r.End.Seq, lastSeq)
		}
		lastSeq = r.End.Seq
	}
	if n := len(fake.Requests()); n != len(ids) {
		t.Errorf("fake LLM got %d requests, want %d", n, len(ids))
	}
}

// TestTwoConnectionsShareTurnOrder sends from two connections of one
// visitor while a turn runs: the second turn starts after the first reply
// is stored, so the conversation's seqs interleave correctly.
func TestTwoConnectionsShareTurnOrder(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"slow ", "first"}, FirstTokenDelay: 150 * time.Millisecond})
	e := newEnv(t, envOptions{fake: fake})
	a := wstest.Dial(t, e.URL)
	ready := a.Hello(t, protocol.Hello{Locale: "en-US"})
	b := wstest.Dial(t, e.URL)
	b.Hello(t, protocol.Hello{VisitorID: ready.VisitorID})

	a.SendMessage(t, "a-1", "waterproof boots")
	start := a.ReadUntil(t, protocol.TypeReplyStart)
	var rs protocol.ReplyStart
	start.Decode(t, &rs)
	// The first turn now holds the conversation; b's message must wait.
	rb := b.Ask(t, "b-1", "a wool scarf")
	var ra protocol.ReplyEnd
	a.ReadUntil(t, protocol.TypeReplyEnd).Decode(t, &ra)

	if rs.UserSeq != 1 || ra.Seq != 2 {
		t.Errorf("first turn = user_seq %d seq %d, want 1 and 2", rs.UserSeq, ra.Seq)
	}
	if ra.InReplyTo != "a-1" {
		t.Errorf("first connection's reply.end in_reply_to = %q, want a-1", ra.InReplyTo)
	}
	// Without one turn at a time per conversation, b's message would be
	// stored at seq 2, before a's reply.
	if rb.Start.UserSeq != 3 || rb.End.Seq != 4 {
		t.Errorf("second connection's turn = user_seq %d seq %d, want 3 and 4", rb.Start.UserSeq, rb.End.Seq)
	}
	msgs := e.history(ready.UserID)
	var roles []string
	for _, m := range msgs {
		roles = append(roles, m.Role)
	}
	if fmt.Sprint(roles) != "[user assistant user assistant]" {
		t.Errorf("stored roles = %v, want user and assistant alternating", roles)
	}
}

// TestSameIDFromTwoConnections sends one message id from two connections
// of a visitor at once: one turn runs and the other gets its stored reply.
func TestSameIDFromTwoConnections(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"only ", "once"}, FirstTokenDelay: 100 * time.Millisecond})
	e := newEnv(t, envOptions{fake: fake})
	a := wstest.Dial(t, e.URL)
	ready := a.Hello(t, protocol.Hello{})
	b := wstest.Dial(t, e.URL)
	b.Hello(t, protocol.Hello{VisitorID: ready.VisitorID})

	a.SendMessage(t, "same", "waterproof boots")
	b.SendMessage(t, "same", "waterproof boots")
	var ends []protocol.ReplyEnd
	for _, c := range []*wstest.Client{a, b} {
		var end protocol.ReplyEnd
		c.ReadUntil(t, protocol.TypeReplyEnd).Decode(t, &end)
		ends = append(ends, end)
	}
	if ends[0].Duplicate == ends[1].Duplicate {
		t.Errorf("duplicate flags = %v and %v, want exactly one duplicate", ends[0].Duplicate, ends[1].Duplicate)
	}
	if ends[0].Seq != ends[1].Seq || ends[0].Text != ends[1].Text {
		t.Errorf("replies differ: seq %d %q and seq %d %q", ends[0].Seq, ends[0].Text, ends[1].Seq, ends[1].Text)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("fake LLM got %d requests, want 1", n)
	}
	if n := len(e.history(ready.UserID)); n != 2 {
		t.Errorf("stored %d messages, want 2", n)
	}
}
