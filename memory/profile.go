package memory

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errEmptyUserID is returned by every per-user method given an empty user id.
var errEmptyUserID = errors.New("invalid user id: empty")

// usersPageSize is how many profiles Users copies out per read transaction.
const usersPageSize = 256

// Visit describes the client that said hello, as reported by the widget.
type Visit struct {
	Locale   string
	Timezone string
	Country  string
}

// VisitGap is how long a user must be away before a hello counts as a new
// visit. Reconnects and reloads within it belong to the same visit.
const VisitGap = 30 * time.Minute

// Touch records a hello: it creates the user's profile on first sight,
// counts a new visit when the user was away for VisitGap or longer, bumps
// LastSeen, and stores the hello's non-empty locale, time zone and country.
// It returns the updated profile and the user's conversation id.
func (s *Store) Touch(ctx context.Context, userID string, visit Visit) (Profile, string, error) {
	if userID == "" {
		return Profile{}, "", fmt.Errorf("touch: %w", errEmptyUserID)
	}
	var p Profile
	err := s.update(ctx, func(tx *bolt.Tx) error {
		now := s.now()
		var err error
		p, err = loadOrNewProfile(tx, userID, now)
		if err != nil {
			return err
		}
		if p.Visits == 0 || now.Sub(p.LastSeen) >= VisitGap {
			p.Visits++
		}
		p.LastSeen = now
		if visit.Locale != "" {
			p.Locale = visit.Locale
		}
		if visit.Timezone != "" {
			p.Timezone = visit.Timezone
		}
		if visit.Country != "" {
			p.Country = visit.Country
		}
		return putJSON(tx.Bucket(bucketUsers), []byte(userID), &p)
	})
	if err != nil {
		return Profile{}, "", fmt.Errorf("touch user %s: %w", userID, err)
	}
	return p, ConversationID(userID), nil
}

// loadOrNewProfile returns the stored profile, or a new one first seen at now.
func loadOrNewProfile(tx *bolt.Tx, userID string, now time.Time) (Profile, error) {
	var p Profile
	found, err := getJSON(tx.Bucket(bucketUsers), []byte(userID), &p)
	if err != nil {
		return Profile{}, fmt.Errorf("load profile: %w", err)
	}
	if !found {
		p = Profile{UserID: userID, FirstSeen: now, LastSeen: now}
	}
	return p, nil
}

// Profile returns the user's profile, or ErrNotFound when the user is unknown.
func (s *Store) Profile(ctx context.Context, userID string) (Profile, error) {
	var p Profile
	err := s.view(ctx, func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketUsers), []byte(userID), &p)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return Profile{}, fmt.Errorf("load profile of user %s: %w", userID, err)
	}
	return p, nil
}

// UpdateProfile loads the user's profile, applies fn and stores the result
// in one transaction, and returns the stored profile. It returns ErrNotFound
// when the user is unknown, and fn's error, wrapped, when fn fails; nothing is
// stored then. Writes are batched, so fn may run more than once, each time on
// a freshly loaded profile: fn must only change the profile it is given.
// fn cannot change UserID.
func (s *Store) UpdateProfile(ctx context.Context, userID string, fn func(*Profile) error) (Profile, error) {
	var p Profile
	err := s.update(ctx, func(tx *bolt.Tx) error {
		p = Profile{}
		users := tx.Bucket(bucketUsers)
		found, err := getJSON(users, []byte(userID), &p)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if err := fn(&p); err != nil {
			return err
		}
		p.UserID = userID
		return putJSON(users, []byte(userID), &p)
	})
	if err != nil {
		return Profile{}, fmt.Errorf("update profile of user %s: %w", userID, err)
	}
	return p, nil
}

// Users calls fn for every stored profile in user id order. It copies
// profiles out a page at a time, so no read transaction stays open while fn
// runs. A profile changed during the iteration may be seen old or new.
// Iteration stops at fn's first error, which Users returns unwrapped.
func (s *Store) Users(ctx context.Context, fn func(Profile) error) error {
	var after []byte
	for {
		page, last, err := s.usersPage(ctx, after)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < usersPageSize {
			return nil
		}
		after = last
	}
}

// usersPage returns up to usersPageSize profiles with keys after the given
// key (from the first when after is nil), and the last key read.
func (s *Store) usersPage(ctx context.Context, after []byte) ([]Profile, []byte, error) {
	var page []Profile
	var last []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketUsers).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && string(k) == string(after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(page) < usersPageSize; k, v = c.Next() {
			var p Profile
			if err := unmarshalCopy(v, &p); err != nil {
				return fmt.Errorf("decode profile %q: %w", k, err)
			}
			page = append(page, p)
			last = append([]byte(nil), k...)
		}
		return nil
	})
	return page, last, err
}

// AppendEvent stores a client event. An event without a time gets the
// store's current time. A feedback event whose TurnID names a stored reply
// also sets that reply's Feedback to the event's Rating.
func (s *Store) AppendEvent(ctx context.Context, userID string, ev Event) error {
	if userID == "" {
		return fmt.Errorf("append event: %w", errEmptyUserID)
	}
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		conv, err := ensureConvBucket(tx, userID)
		if err != nil {
			return err
		}
		events := conv.Bucket(bucketEvents)
		n, err := events.NextSequence()
		if err != nil {
			return err
		}
		if err := putJSON(events, timeKey(ev.Time, seqKey(n)), &ev); err != nil {
			return err
		}
		if ev.Type == "feedback" && ev.TurnID != "" {
			return setFeedback(conv, ev.TurnID, ev.Rating)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append event for user %s: %w", userID, err)
	}
	return nil
}

// setFeedback sets Feedback on the reply of turnID; an unknown turn is ignored.
func setFeedback(conv *bolt.Bucket, turnID string, rating int) error {
	seq := conv.Bucket(bucketTurns).Get([]byte(turnID))
	if seq == nil {
		return nil
	}
	return updateMessage(conv.Bucket(bucketMsgs), seq, func(m *Message) { m.Feedback = rating })
}

// Events returns the user's events at or after since, oldest first.
func (s *Store) Events(ctx context.Context, userID string, since time.Time) ([]Event, error) {
	var events []Event
	err := s.view(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil {
			return nil
		}
		c := conv.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(timeKey(since, nil)); k != nil; k, v = c.Next() {
			var ev Event
			if err := unmarshalCopy(v, &ev); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			events = append(events, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list events of user %s: %w", userID, err)
	}
	return events, nil
}
