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

// seedConversations stores four conversations with known labels, updated in
// the order u1, u2, u3, u4 (u4 newest), and returns the time of each
// conversation's last message.
func seedConversations(t *testing.T, s *memory.Store, clk *clock) map[string]time.Time {
	t.Helper()
	ctx := t.Context()
	type turn struct {
		user, text, reply string
		rec               memory.TurnRecord
	}
	turns := []turn{
		{"u1", "I need running shoes for a marathon", "These marathon shoes are light.",
			memory.TurnRecord{ScenarioLabel: "browsing", Intent: "product_search", Emotion: "neutral", OfferID: "spring10", Variant: "A", Segment: "athlete"}},
		{"u2", "我想买一件羽绒服，预算五百元", "这件羽绒服很保暖。",
			memory.TurnRecord{ScenarioLabel: "festival", Intent: "product_search", Emotion: "happy", OfferID: "newyear20", Variant: "B", Segment: "bargain_hunter"}},
		{"u3", "My order arrived broken, I want a refund", "Sorry about that, a refund is on its way.",
			memory.TurnRecord{ScenarioLabel: "after_sales", Intent: "refund", Emotion: "angry", Variant: "A"}},
		{"u4", "跑步鞋有没有打折", "这双跑步鞋今天八折。",
			memory.TurnRecord{ScenarioLabel: "browsing", Intent: "discount", Emotion: "neutral", OfferID: "spring10", Variant: "B"}},
	}
	last := make(map[string]time.Time)
	for i, tr := range turns {
		if _, _, err := s.Touch(ctx, tr.user, memory.Visit{}); err != nil {
			t.Fatalf("touch %s: %v", tr.user, err)
		}
		msg := appendUser(t, s, tr.user, "", tr.text)
		rec := tr.rec
		rec.TurnID = tr.user + "-t1"
		rec.InReplyTo = msg.Seq
		reply := appendAssistant(t, s, tr.user, tr.reply, &rec)
		last[tr.user] = reply.Time
		clk.Set(reply.Time.Add(time.Duration(i+1) * time.Hour))
	}
	return last
}

func conversationUsers(list []memory.ConversationSummary) []string {
	out := []string{}
	for _, c := range list {
		out = append(out, c.UserID)
	}
	return out
}

func TestConversationsNewestFirst(t *testing.T) {
	s, clk := openClocked(t)
	last := seedConversations(t, s, clk)

	list, next, err := s.Conversations(t.Context(), memory.ConversationQuery{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got := conversationUsers(list); !slices.Equal(got, []string{"u4", "u3", "u2", "u1"}) {
		t.Fatalf("order = %v, want [u4 u3 u2 u1]", got)
	}
	if next != "" {
		t.Errorf("next cursor = %q for a partial page, want empty", next)
	}

	u2 := list[2]
	if u2.ConversationID != memory.ConversationID("u2") || u2.Messages != 2 || !u2.Updated.Equal(last["u2"]) {
		t.Errorf("u2 summary = %+v, want id %s, 2 messages, updated %v", u2, memory.ConversationID("u2"), last["u2"])
	}
	if u2.LastText != "这件羽绒服很保暖。" || u2.Segment != "bargain_hunter" || u2.Variant != "B" {
		t.Errorf("u2 summary = %+v, want last reply text, segment bargain_hunter, variant B", u2)
	}
	if !slices.Equal(u2.ScenarioLabels, []string{"festival"}) || !slices.Equal(u2.Offers, []string{"newyear20"}) {
		t.Errorf("u2 labels %v offers %v, want [festival] and [newyear20]", u2.ScenarioLabels, u2.Offers)
	}

	// A new message moves a conversation to the front.
	appendUser(t, s, "u1", "", "any update?")
	list, _, err = s.Conversations(t.Context(), memory.ConversationQuery{})
	if err != nil {
		t.Fatalf("list after new message: %v", err)
	}
	if got := conversationUsers(list); !slices.Equal(got, []string{"u1", "u4", "u3", "u2"}) {
		t.Errorf("order after u1 wrote = %v, want [u1 u4 u3 u2]", got)
	}
}

func TestConversationsPaging(t *testing.T) {
	s, clk := openClocked(t)
	seedConversations(t, s, clk)
	ctx := t.Context()

	var got []string
	cursor := ""
	for page := 0; page < 10; page++ {
		list, next, err := s.Conversations(ctx, memory.ConversationQuery{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(list) > 3 {
			t.Fatalf("page %d has %d rows, want at most 3", page, len(list))
		}
		got = append(got, conversationUsers(list)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, []string{"u4", "u3", "u2", "u1"}) {
		t.Errorf("paged order = %v, want [u4 u3 u2 u1]", got)
	}

	_, _, err := s.Conversations(ctx, memory.ConversationQuery{Cursor: "not base64!"})
	if !errors.Is(err, memory.ErrInvalidCursor) {
		t.Errorf("bad cursor: %v, want ErrInvalidCursor", err)
	}
}

func TestConversationsFilters(t *testing.T) {
	s, clk := openClocked(t)
	last := seedConversations(t, s, clk)
	if err := s.SetHandedOver(t.Context(), "u3", true); err != nil {
		t.Fatalf("hand over u3: %v", err)
	}
	yes, no := true, false

	tests := []struct {
		name string
		q    memory.ConversationQuery
		want []string
	}{
		{name: "label", q: memory.ConversationQuery{Label: "browsing"}, want: []string{"u4", "u1"}},
		{name: "emotion", q: memory.ConversationQuery{Emotion: "angry"}, want: []string{"u3"}},
		{name: "intent", q: memory.ConversationQuery{Intent: "product_search"}, want: []string{"u2", "u1"}},
		{name: "segment", q: memory.ConversationQuery{Segment: "athlete"}, want: []string{"u1"}},
		{name: "offer", q: memory.ConversationQuery{OfferID: "spring10"}, want: []string{"u4", "u1"}},
		{name: "variant", q: memory.ConversationQuery{Variant: "A"}, want: []string{"u3", "u1"}},
		{name: "handed_over", q: memory.ConversationQuery{HandedOver: &yes}, want: []string{"u3"}},
		{name: "not_handed_over", q: memory.ConversationQuery{HandedOver: &no}, want: []string{"u4", "u2", "u1"}},
		{name: "from", q: memory.ConversationQuery{From: last["u3"]}, want: []string{"u4", "u3"}},
		{name: "to", q: memory.ConversationQuery{To: last["u3"]}, want: []string{"u2", "u1"}},
		{name: "from_and_to", q: memory.ConversationQuery{From: last["u2"], To: last["u4"]}, want: []string{"u3", "u2"}},
		{name: "combined", q: memory.ConversationQuery{Label: "browsing", Variant: "B"}, want: []string{"u4"}},
		{name: "no_match", q: memory.ConversationQuery{Intent: "complaint"}, want: []string{}},
		{name: "limit_with_filter", q: memory.ConversationQuery{Label: "browsing", Limit: 1}, want: []string{"u4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, _, err := s.Conversations(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("list %+v: %v", tt.q, err)
			}
			if got := conversationUsers(list); !slices.Equal(got, tt.want) {
				t.Errorf("list %+v = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestConversationsTextSearch(t *testing.T) {
	s, clk := openClocked(t)
	seedConversations(t, s, clk)

	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "english_word", text: "refund", want: []string{"u3"}},
		{name: "english_case_insensitive", text: "MARATHON", want: []string{"u1"}},
		{name: "english_prefix", text: "marath", want: []string{"u1"}},
		{name: "english_all_words", text: "running marathon", want: []string{"u1"}},
		{name: "english_words_not_together", text: "running refund", want: []string{}},
		{name: "english_from_reply", text: "light", want: []string{"u1"}},
		{name: "chinese_word", text: "羽绒服", want: []string{"u2"}},
		{name: "chinese_shared_word", text: "跑步鞋", want: []string{"u4"}},
		{name: "chinese_single_char", text: "鞋", want: []string{"u4"}},
		{name: "chinese_absent_pair", text: "绒羽", want: []string{}},
		{name: "mixed", text: "跑步 打折", want: []string{"u4"}},
		{name: "punctuation_only", text: "?!", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, next, err := s.Conversations(t.Context(), memory.ConversationQuery{Text: tt.text})
			if err != nil {
				t.Fatalf("search %q: %v", tt.text, err)
			}
			if got := conversationUsers(list); !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %v, want %v", tt.text, got, tt.want)
			}
			if next != "" {
				t.Errorf("search %q next cursor = %q, want empty", tt.text, next)
			}
		})
	}
}

func TestTranscript(t *testing.T) {
	s, clk := openClocked(t)
	seedConversations(t, s, clk)
	ctx := t.Context()
	if err := s.AppendEvent(ctx, "u2", memory.Event{Type: "add_to_cart", ProductID: "down-jacket"}); err != nil {
		t.Fatalf("append event: %v", err)
	}

	p, msgs, events, err := s.Transcript(ctx, "u2")
	if err != nil {
		t.Fatalf("transcript: %v", err)
	}
	if p.UserID != "u2" || len(msgs) != 2 || len(events) != 1 {
		t.Fatalf("transcript = profile %q, %d messages, %d events; want u2, 2, 1", p.UserID, len(msgs), len(events))
	}
	if msgs[1].Turn == nil || msgs[1].Turn.OfferID != "newyear20" {
		t.Errorf("reply turn = %+v, want offer newyear20", msgs[1].Turn)
	}
	if _, _, _, err := s.Transcript(ctx, "nobody"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("transcript of unknown user: %v, want ErrNotFound", err)
	}
}

func TestConversationsPagingAcrossScanPages(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	const n = 600 // the index scan reads 256 entries per transaction

	// Seed from several goroutines so batched commits keep the test fast.
	updated := make([]time.Time, n)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				userID := fmt.Sprintf("user%03d", i)
				msg, _, err := s.AppendUserMessage(ctx, userID, "", "hello")
				if err != nil {
					t.Errorf("append for %s: %v", userID, err)
					return
				}
				updated[i] = msg.Time
				if i%100 == 0 {
					turn := &memory.TurnRecord{InReplyTo: msg.Seq, ScenarioLabel: "rare"}
					reply, err := s.AppendReply(ctx, userID, memory.RoleAssistant, "hi", turn)
					if err != nil {
						t.Errorf("append reply for %s: %v", userID, err)
						return
					}
					updated[i] = reply.Time
				}
			}
		})
	}
	wg.Wait()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("user%03d", i)
	}
	// Newest first; the test clock never returns the same time twice.
	slices.SortFunc(want, func(a, b string) int {
		var ia, ib int
		fmt.Sscanf(a, "user%d", &ia)
		fmt.Sscanf(b, "user%d", &ib)
		return updated[ib].Compare(updated[ia])
	})

	var got []string
	cursor := ""
	pages := 0
	for {
		list, next, err := s.Conversations(ctx, memory.ConversationQuery{Limit: 250, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		got = append(got, conversationUsers(list)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if pages != 3 {
		t.Errorf("paging took %d pages of 250, want 3", pages)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paging returned %d conversations, want all %d newest first", len(got), n)
	}

	list, _, err := s.Conversations(ctx, memory.ConversationQuery{Label: "rare"})
	if err != nil {
		t.Fatalf("filter rare: %v", err)
	}
	var rare []string
	for _, userID := range want {
		var i int
		fmt.Sscanf(userID, "user%d", &i)
		if i%100 == 0 {
			rare = append(rare, userID)
		}
	}
	if got := conversationUsers(list); !slices.Equal(got, rare) {
		t.Errorf("filter rare = %v, want %v", got, rare)
	}
}
