package memory

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Listing limits of Conversations.
const (
	defaultListLimit = 50
	maxListLimit     = 500
	// listPageSize is how many index entries one read transaction of
	// Conversations scans before it is closed and a new one started.
	listPageSize = 256
	// lastTextRunes caps ConversationSummary.LastText.
	lastTextRunes = 200
	// maxSummaryValues caps each label set of a summary; values beyond it
	// are not recorded, so filters on them miss that conversation.
	maxSummaryValues = 32
)

// ConversationSummary is one row of the staff console's conversation list.
type ConversationSummary struct {
	ConversationID string
	UserID         string
	Started        time.Time // time of the first stored message
	Updated        time.Time // time of the last stored message
	Messages       int
	LastText       string // text of the last message, cut to 200 runes
	// ScenarioLabels, Intents, Emotions and Offers are the distinct values
	// recorded on the conversation's turns, in order of first appearance;
	// Offers also includes offers from impressions.
	ScenarioLabels []string
	Intents        []string
	Emotions       []string
	Offers         []string
	Segment        string // the profile's segment, or the last turn's when the profile has none
	Variant        string // experiment variant of the last turn that had one
	HandedOver     bool
}

// ConversationQuery selects conversations for Conversations. Zero fields do
// not filter; a conversation must match every set field.
type ConversationQuery struct {
	From, To   time.Time // From <= Updated < To
	Label      string    // one of ScenarioLabels
	Emotion    string    // one of Emotions
	Intent     string    // one of Intents
	Segment    string
	OfferID    string // one of Offers
	Variant    string
	HandedOver *bool
	// Text matches conversations whose messages contain every word of it and
	// every pair of adjacent Chinese, Japanese or Korean characters in it.
	// Words match case-insensitively, and words of three or more letters also
	// match as word prefixes. Text without any word or character matches
	// nothing.
	Text   string
	Limit  int    // page size; zero means 50, larger than 500 means 500
	Cursor string // the next cursor of the previous page; empty for the first page
}

// summaryRecord is the stored form of a conversation summary, keyed by user id.
type summaryRecord struct {
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	Messages int       `json:"messages"`
	LastText string    `json:"last_text,omitempty"`
	Labels   []string  `json:"labels,omitempty"`
	Intents  []string  `json:"intents,omitempty"`
	Emotions []string  `json:"emotions,omitempty"`
	Offers   []string  `json:"offers,omitempty"`
	Segment  string    `json:"segment,omitempty"`
	Variant  string    `json:"variant,omitempty"`
}

// summarizeMessage adds a newly stored message to the user's summary and
// moves the conversation's entry in the time index to the message time.
func summarizeMessage(tx *bolt.Tx, userID string, msg Message) error {
	summaries := tx.Bucket(bucketSummaries)
	var rec summaryRecord
	found, err := getJSON(summaries, []byte(userID), &rec)
	if err != nil {
		return err
	}
	if found {
		if err := tx.Bucket(bucketConvIndex).Delete(timeKey(rec.Updated, []byte(userID))); err != nil {
			return err
		}
	} else {
		rec.Started = msg.Time
	}

	rec.Updated = msg.Time
	rec.Messages++
	rec.LastText = cutRunes(msg.Text, lastTextRunes)
	if t := msg.Turn; t != nil {
		rec.Labels = addValue(rec.Labels, t.ScenarioLabel)
		rec.Intents = addValue(rec.Intents, t.Intent)
		rec.Emotions = addValue(rec.Emotions, t.Emotion)
		rec.Offers = addValue(rec.Offers, t.OfferID)
		if t.Segment != "" {
			rec.Segment = t.Segment
		}
		if t.Variant != "" {
			rec.Variant = t.Variant
		}
	}

	if err := putJSON(summaries, []byte(userID), &rec); err != nil {
		return err
	}
	return tx.Bucket(bucketConvIndex).Put(timeKey(rec.Updated, []byte(userID)), nil)
}

// summarizeOffer adds offerID to the user's summary when the user has one.
func summarizeOffer(tx *bolt.Tx, userID, offerID string) error {
	summaries := tx.Bucket(bucketSummaries)
	var rec summaryRecord
	found, err := getJSON(summaries, []byte(userID), &rec)
	if err != nil || !found {
		return err
	}
	rec.Offers = addValue(rec.Offers, offerID)
	return putJSON(summaries, []byte(userID), &rec)
}

func addValue(values []string, v string) []string {
	if v == "" || len(values) >= maxSummaryValues || slices.Contains(values, v) {
		return values
	}
	return append(values, v)
}

func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// Conversations returns one page of conversations matching q, most recently
// updated first, and the cursor of the next page. The cursor is empty when
// the list ended before the page was full; a full last page still returns a
// cursor, whose page is empty. One call reads at most maxListScan
// conversations, so with a selective filter a page may hold fewer than
// q.Limit results and still return a cursor. Each read transaction scans at
// most 256 index entries, so a conversation updated between two pages may
// appear on both or be skipped.
func (s *Store) Conversations(ctx context.Context, q ConversationQuery) ([]ConversationSummary, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)

	var start []byte
	if q.Cursor != "" {
		var err error
		start, err = base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(start) < 8 {
			return nil, "", fmt.Errorf("list conversations: cursor %q: %w", q.Cursor, ErrInvalidCursor)
		}
	} else if !q.To.IsZero() {
		start = timeKey(q.To, nil)
	}

	var textUsers map[string]bool
	if q.Text != "" {
		err := s.view(ctx, func(tx *bolt.Tx) error {
			textUsers = matchText(tx, q.Text)
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("list conversations: search text: %w", err)
		}
		if len(textUsers) == 0 {
			return []ConversationSummary{}, "", nil
		}
	}

	l := lister{q: q, limit: limit, textUsers: textUsers, out: []ConversationSummary{}}
	for !l.done {
		err := s.view(ctx, func(tx *bolt.Tx) error {
			return l.scanPage(tx, start)
		})
		if err != nil {
			return nil, "", fmt.Errorf("list conversations: %w", err)
		}
		start = l.resume
		if !l.done && l.scanned >= maxListScan {
			// A selective filter could otherwise read every conversation
			// in one call; the caller continues from the cursor.
			l.next = base64.RawURLEncoding.EncodeToString(l.resume)
			break
		}
	}
	return l.out, l.next, nil
}

// maxListScan bounds the index entries one Conversations call reads. A
// filter that matches little then returns within tens of milliseconds on a
// large store, with a short page and a cursor, instead of scanning it all.
var maxListScan = 10000

// lister carries the state of one Conversations call across its read
// transactions.
type lister struct {
	q         ConversationQuery
	limit     int
	textUsers map[string]bool // nil when q.Text is empty

	out     []ConversationSummary
	scanned int    // index entries read so far
	resume  []byte // index key to continue before
	next    string // cursor returned to the caller
	done    bool
}

// scanPage scans up to listPageSize index entries strictly before start
// (from the newest when start is nil) and appends the matches.
func (l *lister) scanPage(tx *bolt.Tx, start []byte) error {
	c := tx.Bucket(bucketConvIndex).Cursor()
	var k []byte
	if start == nil {
		k, _ = c.Last()
	} else if k, _ = c.Seek(start); k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}

	var last []byte
	for n := 0; n < listPageSize; n, k = n+1, nextKey(c) {
		if k == nil || (!l.q.From.IsZero() && keyTime(k).Before(l.q.From)) {
			l.done = true
			return nil
		}
		last = k
		l.scanned++
		userID := string(k[8:])
		if l.textUsers != nil && !l.textUsers[userID] {
			continue
		}
		sum, err := loadSummary(tx, userID)
		if err != nil {
			return err
		}
		if !l.q.matches(sum) {
			continue
		}
		l.out = append(l.out, sum)
		if len(l.out) == l.limit {
			l.next = base64.RawURLEncoding.EncodeToString(k)
			l.done = true
			return nil
		}
	}
	l.resume = append([]byte(nil), last...)
	return nil
}

func nextKey(c *bolt.Cursor) []byte {
	k, _ := c.Prev()
	return k
}

// loadSummary builds the console summary of a user from the stored summary
// and profile.
func loadSummary(tx *bolt.Tx, userID string) (ConversationSummary, error) {
	var rec summaryRecord
	if _, err := getJSON(tx.Bucket(bucketSummaries), []byte(userID), &rec); err != nil {
		return ConversationSummary{}, fmt.Errorf("load summary of user %s: %w", userID, err)
	}
	var p Profile
	if _, err := getJSON(tx.Bucket(bucketUsers), []byte(userID), &p); err != nil {
		return ConversationSummary{}, fmt.Errorf("load profile of user %s: %w", userID, err)
	}
	segment := p.Segment
	if segment == "" {
		segment = rec.Segment
	}
	return ConversationSummary{
		ConversationID: ConversationID(userID),
		UserID:         userID,
		Started:        rec.Started,
		Updated:        rec.Updated,
		Messages:       rec.Messages,
		LastText:       rec.LastText,
		ScenarioLabels: rec.Labels,
		Intents:        rec.Intents,
		Emotions:       rec.Emotions,
		Offers:         rec.Offers,
		Segment:        segment,
		Variant:        rec.Variant,
		HandedOver:     p.HandedOver,
	}, nil
}

// matches applies every filter of q except From, Cursor and Text, which the
// index scan applies.
func (q ConversationQuery) matches(c ConversationSummary) bool {
	switch {
	case !q.To.IsZero() && !c.Updated.Before(q.To):
		return false
	case q.Label != "" && !slices.Contains(c.ScenarioLabels, q.Label):
		return false
	case q.Emotion != "" && !slices.Contains(c.Emotions, q.Emotion):
		return false
	case q.Intent != "" && !slices.Contains(c.Intents, q.Intent):
		return false
	case q.OfferID != "" && !slices.Contains(c.Offers, q.OfferID):
		return false
	case q.Segment != "" && c.Segment != q.Segment:
		return false
	case q.Variant != "" && c.Variant != q.Variant:
		return false
	case q.HandedOver != nil && c.HandedOver != *q.HandedOver:
		return false
	}
	return true
}

// Transcript returns the user's profile, all messages in seq order and all
// events in time order, each read in its own transaction. It returns
// ErrNotFound when the user has no profile.
func (s *Store) Transcript(ctx context.Context, userID string) (Profile, []Message, []Event, error) {
	p, err := s.Profile(ctx, userID)
	if err != nil {
		return Profile{}, nil, nil, err
	}
	msgs, err := s.History(ctx, userID, 0, 0)
	if err != nil {
		return Profile{}, nil, nil, err
	}
	if err := s.attachDetails(ctx, userID, msgs); err != nil {
		return Profile{}, nil, nil, err
	}
	events, err := s.Events(ctx, userID, time.Time{})
	if err != nil {
		return Profile{}, nil, nil, err
	}
	return p, msgs, events, nil
}

// attachDetails copies the stored decision details into the turn records of
// msgs, which History returns without them.
func (s *Store) attachDetails(ctx context.Context, userID string, msgs []Message) error {
	err := s.view(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil || conv.Bucket(bucketDetails) == nil {
			return nil
		}
		details := conv.Bucket(bucketDetails)
		for i := range msgs {
			if msgs[i].Turn == nil {
				continue
			}
			if v := details.Get(seqKey(msgs[i].Seq)); v != nil {
				rec := *msgs[i].Turn
				rec.Details = append([]byte(nil), v...)
				msgs[i].Turn = &rec
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load decision details of user %s: %w", userID, err)
	}
	return nil
}

// SetHandedOver marks whether a staff member owns the user's conversation.
// It returns ErrNotFound when the user is unknown.
func (s *Store) SetHandedOver(ctx context.Context, userID string, on bool) error {
	_, err := s.UpdateProfile(ctx, userID, func(p *Profile) error {
		p.HandedOver = on
		return nil
	})
	return err
}

// Annotate appends a staff annotation to the user's message at seq. An
// annotation without a time gets the store's current time. It returns
// ErrNotFound when the message does not exist.
func (s *Store) Annotate(ctx context.Context, userID string, seq uint64, a Annotation) error {
	if a.Time.IsZero() {
		a.Time = s.now()
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil {
			return ErrNotFound
		}
		return updateMessage(conv.Bucket(bucketMsgs), seqKey(seq), func(m *Message) {
			m.Annotations = append(m.Annotations, a)
		})
	})
	if err != nil {
		return fmt.Errorf("annotate message %d of user %s: %w", seq, userID, err)
	}
	return nil
}
