package memory

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// seedConversations writes n conversations of two messages each straight
// through the store's internal writers, many per transaction, so a
// benchmark can build a large store in seconds instead of syncing each turn.
func seedConversations(tb testing.TB, s *Store, n int) {
	tb.Helper()
	labels := []string{"browsing", "gift_shopping", "bargain_hunting", "complaint", "after_sales"}
	emotions := []string{"neutral", "positive", "negative", "angry", "anxious"}
	texts := []string{"waterproof boots under 150", "想给妈妈买个生日礼物", "where is my order",
		"any discount on headphones", "保温杯有便宜一点的吗"}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const perTx = 5000
	for start := 0; start < n; start += perTx {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < min(n, start+perTx); i++ {
				userID := fmt.Sprintf("v:seed%06d", i)
				conv, err := ensureConvBucket(tx, userID)
				if err != nil {
					return err
				}
				at := base.Add(time.Duration(i) * time.Minute)
				user := Message{Role: RoleUser, Text: texts[i%len(texts)] + fmt.Sprintf(" #%d", i), Time: at}
				if err := putMessage(tx, conv, userID, &user); err != nil {
					return err
				}
				reply := Message{Role: RoleAssistant, Text: "Here are some options.", Time: at.Add(time.Second),
					Turn: &TurnRecord{TurnID: fmt.Sprintf("t%d", i), InReplyTo: user.Seq,
						ScenarioLabel: labels[i%len(labels)], Intent: "product_search",
						Emotion: emotions[i%len(emotions)], Provider: "offline"}}
				if err := putMessage(tx, conv, userID, &reply); err != nil {
					return err
				}
				if err := linkTurn(tx, conv, userID, reply); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("seed conversations: %v", err)
		}
	}
}

// BenchmarkConversations lists the newest page of a store of 100,000
// conversations, unfiltered, filtered by labels, and by a full-text search
// in English and in Chinese.
func BenchmarkConversations(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const n = 100000
	seedConversations(b, s, n)
	queries := map[string]ConversationQuery{
		"newest":         {Limit: 50},
		"label_emotion":  {Label: "complaint", Emotion: "angry", Limit: 50},
		"rare_filter":    {Label: "complaint", Emotion: "neutral", Limit: 50},
		"text_en":        {Text: "waterproof boots", Limit: 50},
		"text_zh":        {Text: "生日礼物", Limit: 50},
		"text_one_match": {Text: "#99999", Limit: 50},
	}
	for name, q := range queries {
		b.Run(fmt.Sprintf("conversations=%d/%s", n, name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Conversations(b.Context(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConversationsScanBudget checks that a filter matching nothing stops
// after maxListScan conversations with a cursor, and that following the
// cursors covers the whole store.
func TestConversationsScanBudget(t *testing.T) {
	defer func(old int) { maxListScan = old }(maxListScan)
	maxListScan = 500
	s, err := Open(filepath.Join(t.TempDir(), "scan.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const n = 1200
	seedConversations(t, s, n)

	q := ConversationQuery{Label: "complaint", Emotion: "neutral"} // never together in the seed
	pages := 0
	for {
		got, next, err := s.Conversations(t.Context(), q)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(got) != 0 {
			t.Fatalf("page %d has %d conversations, want none", pages, len(got))
		}
		pages++
		if next == "" {
			break
		}
		if pages > n/maxListScan+1 {
			t.Fatalf("more than %d pages for %d conversations", pages, n)
		}
		q.Cursor = next
	}
	if want := (n + maxListScan - 1) / maxListScan; pages != want {
		t.Errorf("pages = %d, want %d for %d conversations", pages, want, n)
	}

	// A filter that matches a fifth of the store fills its page within the budget.
	all, _, err := s.Conversations(t.Context(), ConversationQuery{Label: "complaint", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 50 {
		t.Errorf("complaint page has %d conversations, want 50", len(all))
	}
}
