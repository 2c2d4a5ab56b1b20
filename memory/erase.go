package memory

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// purgePageSize is how many users PurgeBefore handles per write transaction.
const purgePageSize = 64

// Erase removes everything stored about the user: profile, messages, events,
// impressions, conversation summary and index entries. Offer totals keep
// their counts. It then compacts the file, so no freed page keeps the
// user's data. Compaction copies the whole file and blocks every other
// method of the store while it runs. Erasing an unknown user succeeds.
func (s *Store) Erase(ctx context.Context, userID string) error {
	if userID == "" {
		return fmt.Errorf("erase: %w", errEmptyUserID)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return eraseUser(tx, userID)
	})
	if err != nil {
		return fmt.Errorf("erase user %s: %w", userID, err)
	}
	// Compact even when the user was not found, so a retry after a failed
	// compaction still removes the freed pages.
	if err := s.compact(); err != nil {
		return fmt.Errorf("erase user %s: %w", userID, err)
	}
	s.logger.Info("user erased", "user_id", userID)
	return nil
}

func eraseUser(tx *bolt.Tx, userID string) error {
	if conv := convBucket(tx, userID); conv != nil {
		if err := unindexUser(tx, conv, userID); err != nil {
			return err
		}
		if err := tx.Bucket(bucketConv).DeleteBucket([]byte(userID)); err != nil {
			return fmt.Errorf("delete conversation: %w", err)
		}
	}
	if err := dropSummary(tx, userID); err != nil {
		return err
	}
	return tx.Bucket(bucketUsers).Delete([]byte(userID))
}

// dropSummary deletes the user's conversation summary and time index entry.
func dropSummary(tx *bolt.Tx, userID string) error {
	summaries := tx.Bucket(bucketSummaries)
	var rec summaryRecord
	found, err := getJSON(summaries, []byte(userID), &rec)
	if err != nil || !found {
		return err
	}
	if err := tx.Bucket(bucketConvIndex).Delete(timeKey(rec.Updated, []byte(userID))); err != nil {
		return err
	}
	return summaries.Delete([]byte(userID))
}

// PurgeBefore enforces retention: it deletes every message, event and
// impression older than cutoff, rebuilds the affected conversation
// summaries and text index entries, and returns the number of messages
// deleted. When a user has no messages left, it also clears the profile's
// Summary, which was written from those messages; the rest of the profile
// stays. When anything was deleted it compacts the file, as Erase does.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time) (int, error) {
	total, changed := 0, false
	var after []byte
	for {
		users, err := s.convUsers(ctx, after)
		if err != nil {
			return total, fmt.Errorf("purge before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if len(users) == 0 {
			break
		}

		var removed int
		var pageChanged bool
		err = s.update(ctx, func(tx *bolt.Tx) error {
			removed, pageChanged = 0, false
			for _, userID := range users {
				n, c, err := purgeUser(tx, userID, cutoff)
				if err != nil {
					return fmt.Errorf("user %s: %w", userID, err)
				}
				removed += n
				pageChanged = pageChanged || c
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		total += removed
		changed = changed || pageChanged
		after = []byte(users[len(users)-1])
	}

	if changed {
		if err := s.compact(); err != nil {
			return total, fmt.Errorf("purge before %s: %w", cutoff.Format(time.RFC3339), err)
		}
	}
	s.logger.Info("retention purge finished", "cutoff", cutoff, "messages", total)
	return total, nil
}

// convUsers returns up to purgePageSize ids of users with a conversation
// bucket, after the given id (from the first when after is nil).
func (s *Store) convUsers(ctx context.Context, after []byte) ([]string, error) {
	var users []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketConv).Cursor()
		k, _ := c.First()
		if after != nil {
			k, _ = c.Seek(after)
			if bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		for ; k != nil && len(users) < purgePageSize; k, _ = c.Next() {
			users = append(users, string(k))
		}
		return nil
	})
	return users, err
}

// purgeUser deletes the user's records older than cutoff. It returns the
// number of messages deleted and whether anything was deleted.
func purgeUser(tx *bolt.Tx, userID string, cutoff time.Time) (int, bool, error) {
	conv := convBucket(tx, userID)
	if conv == nil {
		return 0, false, nil
	}
	old, err := oldMessages(conv.Bucket(bucketMsgs), cutoff)
	if err != nil {
		return 0, false, err
	}
	for _, m := range old {
		if err := deleteMessage(conv, m); err != nil {
			return 0, false, err
		}
	}

	events, err := deleteBefore(conv.Bucket(bucketEvents), cutoff)
	if err != nil {
		return 0, false, err
	}
	imps, err := deleteBefore(conv.Bucket(bucketImpressions), cutoff)
	if err != nil {
		return 0, false, err
	}
	if len(old) > 0 {
		if err := rebuildConversation(tx, conv, userID); err != nil {
			return 0, false, err
		}
	}
	return len(old), len(old)+events+imps > 0, nil
}

// oldMessages returns the leading messages stored before cutoff.
//
// NOTE: the scan stops at the first message at or after cutoff. Seq order
// is append order, so it is also time order unless the clock was set back
// between appends. Older messages stored after such a jump are kept.
func oldMessages(msgs *bolt.Bucket, cutoff time.Time) ([]Message, error) {
	var old []Message
	c := msgs.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var m Message
		if err := unmarshalCopy(v, &m); err != nil {
			return nil, fmt.Errorf("decode message %x: %w", k, err)
		}
		if !m.Time.Before(cutoff) {
			break
		}
		old = append(old, m)
	}
	return old, nil
}

// deleteMessage deletes a message and the links that point at it.
func deleteMessage(conv *bolt.Bucket, m Message) error {
	key := seqKey(m.Seq)
	if m.ClientID != "" {
		if err := conv.Bucket(bucketClientIDs).Delete([]byte(m.ClientID)); err != nil {
			return err
		}
	}
	if err := conv.Bucket(bucketReplies).Delete(key); err != nil {
		return err
	}
	if m.Turn != nil && m.Turn.TurnID != "" {
		if err := conv.Bucket(bucketTurns).Delete([]byte(m.Turn.TurnID)); err != nil {
			return err
		}
	}
	if details := conv.Bucket(bucketDetails); details != nil {
		if err := details.Delete(key); err != nil {
			return err
		}
	}
	return conv.Bucket(bucketMsgs).Delete(key)
}

// deleteBefore deletes the time-keyed records older than cutoff and returns
// how many it deleted. Keys are collected first because deleting under a
// bbolt cursor can make the cursor skip the next key.
func deleteBefore(b *bolt.Bucket, cutoff time.Time) (int, error) {
	end := timeKey(cutoff, nil)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// rebuildConversation recomputes the user's summary, time index entry and
// text index from the messages that remain.
func rebuildConversation(tx *bolt.Tx, conv *bolt.Bucket, userID string) error {
	if err := dropSummary(tx, userID); err != nil {
		return err
	}
	if err := unindexUser(tx, conv, userID); err != nil {
		return err
	}

	var remaining int
	err := conv.Bucket(bucketMsgs).ForEach(func(k, v []byte) error {
		var m Message
		if err := unmarshalCopy(v, &m); err != nil {
			return fmt.Errorf("decode message %x: %w", k, err)
		}
		remaining++
		if err := summarizeMessage(tx, userID, m); err != nil {
			return err
		}
		return indexText(tx, conv, userID, m.Text)
	})
	if err != nil {
		return err
	}
	if remaining > 0 {
		return conv.Bucket(bucketImpressions).ForEach(func(k, v []byte) error {
			var imp Impression
			if err := unmarshalCopy(v, &imp); err != nil {
				return fmt.Errorf("decode impression %x: %w", k, err)
			}
			return summarizeOffer(tx, userID, imp.OfferID)
		})
	}

	users := tx.Bucket(bucketUsers)
	var p Profile
	found, err := getJSON(users, []byte(userID), &p)
	if err != nil || !found || p.Summary == "" {
		return err
	}
	p.Summary = ""
	return putJSON(users, []byte(userID), &p)
}
