package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// GetState returns a copy of the value stored under key by PutState, or
// ErrNotFound when there is none.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketState).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		value = append([]byte{}, v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get state %q: %w", key, err)
	}
	return value, nil
}

// PutState stores value under key, replacing any earlier value. Other
// packages keep their own state here (bandit weights, offer budgets, the
// admin token hash); the key should start with the package name.
func (s *Store) PutState(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return fmt.Errorf("put state: invalid key: empty")
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).Put([]byte(key), value)
	})
	if err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	return nil
}

// Impression is one offer shown to a user.
type Impression struct {
	OfferID  string    `json:"offer_id"`
	TurnID   string    `json:"turn_id,omitempty"`
	Variant  string    `json:"variant,omitempty"`
	Time     time.Time `json:"time"`
	Features []float64 `json:"features,omitempty"` // bandit context vector at the time of the impression
}

// RecordImpression stores an impression for the user, adds one to the
// offer's total and adds the offer to the user's conversation summary. An
// impression without a time gets the store's current time.
func (s *Store) RecordImpression(ctx context.Context, userID string, imp Impression) error {
	if userID == "" {
		return fmt.Errorf("record impression: %w", errEmptyUserID)
	}
	if imp.OfferID == "" {
		return fmt.Errorf("record impression for user %s: invalid offer id: empty", userID)
	}
	if imp.Time.IsZero() {
		imp.Time = s.now()
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return putImpression(tx, userID, imp)
	})
	if err != nil {
		return fmt.Errorf("record impression of offer %s for user %s: %w", imp.OfferID, userID, err)
	}
	return nil
}

// putImpression stores imp, adds one to the offer's total and adds the
// offer to the user's conversation summary.
func putImpression(tx *bolt.Tx, userID string, imp Impression) error {
	conv, err := ensureConvBucket(tx, userID)
	if err != nil {
		return err
	}
	imps := conv.Bucket(bucketImpressions)
	n, err := imps.NextSequence()
	if err != nil {
		return err
	}
	if err := putJSON(imps, timeKey(imp.Time, seqKey(n)), &imp); err != nil {
		return err
	}
	if err := addOfferTotal(tx, imp.OfferID); err != nil {
		return err
	}
	counts := conv.Bucket(bucketImpCounts)
	var shown uint64
	if v := counts.Get([]byte(imp.OfferID)); len(v) == 8 {
		shown = binary.BigEndian.Uint64(v)
	}
	if err := counts.Put([]byte(imp.OfferID), seqKey(shown+1)); err != nil {
		return err
	}
	return summarizeOffer(tx, userID, imp.OfferID)
}

// ImpressionCounts returns how many times each offer was shown to the
// user, from a counter kept beside the impressions, so a turn does not
// decode the user's whole impression history. Retention purges keep the
// counts, so frequency caps count every impression ever shown.
func (s *Store) ImpressionCounts(ctx context.Context, userID string) (map[string]int, error) {
	counts := map[string]int{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil {
			return nil
		}
		b := conv.Bucket(bucketImpCounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				counts[string(k)] = int(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load impression counts of user %s: %w", userID, err)
	}
	return counts, nil
}

func addOfferTotal(tx *bolt.Tx, offerID string) error {
	totals := tx.Bucket(bucketOfferTotals)
	var n uint64
	if v := totals.Get([]byte(offerID)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	return totals.Put([]byte(offerID), seqKey(n+1))
}

// Impressions returns the user's impressions, oldest first.
func (s *Store) Impressions(ctx context.Context, userID string) ([]Impression, error) {
	var out []Impression
	err := s.view(ctx, func(tx *bolt.Tx) error {
		conv := convBucket(tx, userID)
		if conv == nil {
			return nil
		}
		return conv.Bucket(bucketImpressions).ForEach(func(k, v []byte) error {
			var imp Impression
			if err := unmarshalCopy(v, &imp); err != nil {
				return fmt.Errorf("decode impression %x: %w", k, err)
			}
			out = append(out, imp)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list impressions of user %s: %w", userID, err)
	}
	return out, nil
}

// OfferTotals returns the number of impressions per offer id over all
// users. The counts are kept as counters, so Erase and PurgeBefore do not
// lower them.
func (s *Store) OfferTotals(ctx context.Context) (map[string]int, error) {
	totals := make(map[string]int)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOfferTotals).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("decode total of offer %s: want 8 bytes, got %d", k, len(v))
			}
			totals[string(k)] = int(binary.BigEndian.Uint64(v))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load offer totals: %w", err)
	}
	return totals, nil
}
