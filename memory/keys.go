package memory

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Top-level bucket names; doc.go describes what each contains.
var (
	bucketUsers       = []byte("users")
	bucketConv        = []byte("conv")
	bucketSummaries   = []byte("summaries")
	bucketConvIndex   = []byte("convindex")
	bucketTextIndex   = []byte("textindex")
	bucketState       = []byte("state")
	bucketOfferTotals = []byte("offer_totals")

	topBuckets = [][]byte{
		bucketUsers, bucketConv, bucketSummaries, bucketConvIndex,
		bucketTextIndex, bucketState, bucketOfferTotals,
	}
)

// Bucket names inside each user's conv/<user> bucket.
var (
	bucketMsgs        = []byte("msgs")
	bucketClientIDs   = []byte("clientids")
	bucketReplies     = []byte("replies")
	bucketTurns       = []byte("turns")
	bucketEvents      = []byte("events")
	bucketImpressions = []byte("impressions")
	bucketTokens      = []byte("tokens")
	bucketImpCounts   = []byte("impcounts") // offer id -> impressions, big-endian uint64
	bucketDetails     = []byte("details")   // seq -> TurnRecord.Details of that message

	convBuckets = [][]byte{
		bucketMsgs, bucketClientIDs, bucketReplies, bucketTurns,
		bucketEvents, bucketImpressions, bucketTokens, bucketImpCounts, bucketDetails,
	}
)

// ConversationID returns the stable conversation id of a user: "c_" and the
// first 16 hex digits of the SHA-256 of the user id.
func ConversationID(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return "c_" + hex.EncodeToString(sum[:8])
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

// timeKey encodes t as big-endian Unix nanoseconds followed by suffix, so
// keys sort by time. Times before 1970 sort as 1970.
func timeKey(t time.Time, suffix []byte) []byte {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	key := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(suffix)), uint64(ns))
	return append(key, suffix...)
}

// keyTime decodes the time prefix written by timeKey.
func keyTime(key []byte) time.Time {
	if len(key) < 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(key[:8])))
}

// convBucket returns the conv/<user> bucket, or nil when the user has none.
func convBucket(tx *bolt.Tx, userID string) *bolt.Bucket {
	return tx.Bucket(bucketConv).Bucket([]byte(userID))
}

// ensureConvBucket returns the conv/<user> bucket with all its sub-buckets,
// creating what is missing.
func ensureConvBucket(tx *bolt.Tx, userID string) (*bolt.Bucket, error) {
	conv, err := tx.Bucket(bucketConv).CreateBucketIfNotExists([]byte(userID))
	if err != nil {
		return nil, fmt.Errorf("create conversation bucket: %w", err)
	}
	for _, name := range convBuckets {
		if _, err := conv.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return conv, nil
}

// getJSON decodes the value at key into v. It returns false when the key is
// absent.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := unmarshalCopy(data, v); err != nil {
		return false, fmt.Errorf("decode %x: %w", key, err)
	}
	return true, nil
}

// unmarshalCopy decodes a value read from bbolt. Such values are valid only
// inside their transaction; json.Unmarshal allocates every string and slice
// it keeps, so the result stays valid after the transaction ends.
func unmarshalCopy(data []byte, v any) error {
	return json.Unmarshal(data, v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %x: %w", key, err)
	}
	return b.Put(key, data)
}
