package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AppendUserMessage stores a user message and returns after the commit is on
// disk. The message gets the next seq of the user's conversation, and a
// profile is created for an unknown user.
//
// When clientID was stored before for this user, nothing is stored: msg is
// the earlier message and prior is the assistant reply linked to it by
// AppendReply, or nil when that turn never finished. Messages with an empty
// clientID are never de-duplicated. Concurrent calls with the same clientID
// store the message once, because the lookup and the insert share one
// transaction.
func (s *Store) AppendUserMessage(ctx context.Context, userID, clientID, text string) (msg Message, prior *Message, err error) {
	if userID == "" {
		return Message{}, nil, fmt.Errorf("append user message: %w", errEmptyUserID)
	}
	text = s.mask(text)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		msg, prior = Message{}, nil
		conv, err := ensureConvBucket(tx, userID)
		if err != nil {
			return err
		}

		if clientID != "" {
			seq := conv.Bucket(bucketClientIDs).Get([]byte(clientID))
			if seq != nil {
				msg, prior, err = loadWithReply(conv, seq)
				return err
			}
		}

		now := s.now()
		p, err := loadOrNewProfile(tx, userID, now)
		if err != nil {
			return err
		}
		p.LastSeen = now
		if err := putJSON(tx.Bucket(bucketUsers), []byte(userID), &p); err != nil {
			return err
		}

		msg = Message{Role: RoleUser, Text: text, Time: now, ClientID: clientID}
		if err := putMessage(tx, conv, userID, &msg); err != nil {
			return err
		}
		if clientID != "" {
			return conv.Bucket(bucketClientIDs).Put([]byte(clientID), seqKey(msg.Seq))
		}
		return nil
	})
	if err != nil {
		return Message{}, nil, fmt.Errorf("append user message for user %s: %w", userID, err)
	}
	return msg, prior, nil
}

// loadWithReply loads the message at seq and the assistant reply linked to it.
func loadWithReply(conv *bolt.Bucket, seq []byte) (Message, *Message, error) {
	msgs := conv.Bucket(bucketMsgs)
	var msg Message
	found, err := getJSON(msgs, seq, &msg)
	if err != nil {
		return Message{}, nil, err
	}
	if !found {
		return Message{}, nil, fmt.Errorf("load message %d: %w", binary.BigEndian.Uint64(seq), ErrNotFound)
	}

	replySeq := conv.Bucket(bucketReplies).Get(seq)
	if replySeq == nil {
		return msg, nil, nil
	}
	var reply Message
	found, err = getJSON(msgs, replySeq, &reply)
	if err != nil || !found {
		return msg, nil, err
	}
	return msg, &reply, nil
}

// AppendReply stores an assistant or agent message and returns after the
// commit is on disk. For an assistant message with a turn record, it links
// turn.InReplyTo to the reply, so a repeated user message finds it, maps
// turn.TurnID to the reply for feedback events, and counts a turn in the
// user's profile.
func (s *Store) AppendReply(ctx context.Context, userID string, role string, text string, turn *TurnRecord) (Message, error) {
	if userID == "" {
		return Message{}, fmt.Errorf("append reply: %w", errEmptyUserID)
	}
	if role != RoleAssistant && role != RoleAgent {
		return Message{}, fmt.Errorf("append reply for user %s: invalid role %q: want %q or %q",
			userID, role, RoleAssistant, RoleAgent)
	}
	text = s.mask(text)
	var msg Message
	err := s.update(ctx, func(tx *bolt.Tx) error {
		conv, err := ensureConvBucket(tx, userID)
		if err != nil {
			return err
		}
		msg = Message{Role: role, Text: text, Time: s.now()}
		if turn != nil {
			record := *turn
			msg.Turn = &record
		}
		if err := putMessage(tx, conv, userID, &msg); err != nil {
			return err
		}
		if role != RoleAssistant || turn == nil {
			return nil
		}
		return linkTurn(tx, conv, userID, msg)
	})
	if err != nil {
		return Message{}, fmt.Errorf("append reply for user %s: %w", userID, err)
	}
	return msg, nil
}

// FinishTurn stores a bot reply, the offer impression it carried (nil when
// none) and the profile changes of the turn in one transaction. A turn then
// costs one disk sync after the model's reply, and either all of it is
// stored or none. update runs inside the transaction on the stored profile,
// after the turn is counted. It may run more than once, so it must not have
// other effects.
func (s *Store) FinishTurn(ctx context.Context, userID, text string, turn *TurnRecord, imp *Impression, update func(*Profile) error) (Message, error) {
	if userID == "" {
		return Message{}, fmt.Errorf("finish turn: %w", errEmptyUserID)
	}
	if turn == nil {
		return Message{}, fmt.Errorf("finish turn for user %s: missing turn record", userID)
	}
	if imp != nil && imp.OfferID == "" {
		return Message{}, fmt.Errorf("finish turn for user %s: invalid offer id: empty", userID)
	}
	text = s.mask(text)
	var msg Message
	err := s.update(ctx, func(tx *bolt.Tx) error {
		conv, err := ensureConvBucket(tx, userID)
		if err != nil {
			return err
		}
		record := *turn
		msg = Message{Role: RoleAssistant, Text: text, Time: s.now(), Turn: &record}
		if err := putMessage(tx, conv, userID, &msg); err != nil {
			return err
		}
		if err := linkTurn(tx, conv, userID, msg); err != nil {
			return err
		}
		if imp != nil {
			i := *imp
			if i.Time.IsZero() {
				i.Time = msg.Time
			}
			if err := putImpression(tx, userID, i); err != nil {
				return err
			}
		}
		if update == nil {
			return nil
		}
		users := tx.Bucket(bucketUsers)
		var p Profile
		if _, err := getJSON(users, []byte(userID), &p); err != nil {
			return err
		}
		if err := update(&p); err != nil {
			return err
		}
		p.UserID = userID
		return putJSON(users, []byte(userID), &p)
	})
	if err != nil {
		return Message{}, fmt.Errorf("finish turn for user %s: %w", userID, err)
	}
	return msg, nil
}

// linkTurn records the links from an assistant reply's turn and counts the turn.
func linkTurn(tx *bolt.Tx, conv *bolt.Bucket, userID string, reply Message) error {
	if reply.Turn.InReplyTo != 0 {
		err := conv.Bucket(bucketReplies).Put(seqKey(reply.Turn.InReplyTo), seqKey(reply.Seq))
		if err != nil {
			return err
		}
	}
	if reply.Turn.TurnID != "" {
		if err := conv.Bucket(bucketTurns).Put([]byte(reply.Turn.TurnID), seqKey(reply.Seq)); err != nil {
			return err
		}
	}
	p, err := loadOrNewProfile(tx, userID, reply.Time)
	if err != nil {
		return err
	}
	p.Turns++
	return putJSON(tx.Bucket(bucketUsers), []byte(userID), &p)
}

// putMessage assigns msg the next seq, stores it and updates the
// conversation's summary, time index and text index.
func putMessage(tx *bolt.Tx, conv *bolt.Bucket, userID string, msg *Message) error {
	msgs := conv.Bucket(bucketMsgs)
	seq, err := msgs.NextSequence()
	if err != nil {
		return fmt.Errorf("next seq: %w", err)
	}
	msg.Seq = seq
	stored := msg
	if msg.Turn != nil && len(msg.Turn.Details) > 0 {
		// Decision details are kept beside the message, so the reads of
		// every turn (history for the prompt, resume) stay small; Transcript
		// joins them back.
		if err := conv.Bucket(bucketDetails).Put(seqKey(seq), msg.Turn.Details); err != nil {
			return err
		}
		rec := *msg.Turn
		rec.Details = nil
		stripped := *msg
		stripped.Turn = &rec
		stored = &stripped
	}
	if err := putJSON(msgs, seqKey(seq), stored); err != nil {
		return err
	}
	if err := summarizeMessage(tx, userID, *msg); err != nil {
		return err
	}
	return indexText(tx, conv, userID, msg.Text)
}

// updateMessage applies fn to the stored message at seq.
func updateMessage(msgs *bolt.Bucket, seq []byte, fn func(*Message)) error {
	var m Message
	found, err := getJSON(msgs, seq, &m)
	if err != nil {
		return err
	}
	if !found {
		return ErrNotFound
	}
	fn(&m)
	return putJSON(msgs, seq, &m)
}

// History returns the user's messages with seq greater than afterSeq in
// ascending seq order, at most limit of them; limit 0 means all. An unknown
// user has no messages.
func (s *Store) History(ctx context.Context, userID string, afterSeq uint64, limit int) ([]Message, error) {
	var out []Message
	if afterSeq == math.MaxUint64 {
		return out, nil
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil {
			return nil
		}
		c := conv.Bucket(bucketMsgs).Cursor()
		for k, v := c.Seek(seqKey(afterSeq + 1)); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			var m Message
			if err := unmarshalCopy(v, &m); err != nil {
				return fmt.Errorf("decode message %x: %w", k, err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load history of user %s: %w", userID, err)
	}
	return out, nil
}

// Recent returns the user's last n messages in ascending seq order.
func (s *Store) Recent(ctx context.Context, userID string, n int) ([]Message, error) {
	return s.recent(ctx, userID, n, func(v []byte) (Message, error) {
		var m Message
		err := unmarshalCopy(v, &m)
		return m, err
	})
}

// RecentTexts is Recent without the turn records (Turn is nil). It is
// several times cheaper, which matters when every turn reads the history
// for its prompt.
func (s *Store) RecentTexts(ctx context.Context, userID string, n int) ([]Message, error) {
	return s.recent(ctx, userID, n, func(v []byte) (Message, error) {
		var m messageText
		err := unmarshalCopy(v, &m)
		return Message{Seq: m.Seq, Role: m.Role, Text: m.Text, Time: m.Time, ClientID: m.ClientID}, err
	})
}

// messageText is the part of a stored Message that RecentTexts decodes;
// encoding/json skips the other fields without building them.
type messageText struct {
	Seq      uint64    `json:"seq"`
	Role     string    `json:"role"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
	ClientID string    `json:"client_id"`
}

// recent reads the last n messages with decode, newest first, and returns
// them in ascending seq order.
func (s *Store) recent(ctx context.Context, userID string, n int, decode func([]byte) (Message, error)) ([]Message, error) {
	var out []Message
	if n <= 0 {
		return out, nil
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil {
			return nil
		}
		c := conv.Bucket(bucketMsgs).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			m, err := decode(v)
			if err != nil {
				return fmt.Errorf("decode message %x: %w", k, err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load recent messages of user %s: %w", userID, err)
	}
	slices.Reverse(out)
	return out, nil
}
