// Package memory stores what Concierge remembers about its users in one
// bbolt file: profiles, conversation messages with the decisions behind each
// reply, client events, offer impressions, a conversation list for the staff
// console, and state other packages persist. It also erases users and
// enforces retention.
//
// # Bucket layout
//
// Top-level buckets:
//
//	users         user id -> Profile JSON
//	conv          one nested bucket per user id, see below
//	summaries     user id -> conversation summary JSON (times, counts, last
//	              text, labels, intents, emotions, offers, segment, variant)
//	convindex     8-byte big-endian Unix nanoseconds of the last message,
//	              then the user id -> empty; the console lists it newest first
//	textindex     token, a zero byte, user id -> empty; tokens are lowercased
//	              Latin words and single CJK characters and adjacent pairs
//	state         key -> opaque value (PutState, GetState)
//	offer_totals  offer id -> 8-byte big-endian impression count
//
// Inside conv/<user id>:
//
//	msgs          8-byte big-endian seq -> Message JSON; the bucket's
//	              sequence assigns seqs, so they are never reused after a purge
//	clientids     client message id -> seq of the user message
//	replies       seq of a user message -> seq of the assistant reply
//	turns         turn id -> seq of the assistant reply
//	events        8-byte big-endian Unix nanoseconds, 8-byte counter -> Event JSON
//	impressions   8-byte big-endian Unix nanoseconds, 8-byte counter -> Impression JSON
//	tokens        token -> empty; this user's textindex entries, so Erase
//	              and PurgeBefore can remove them
//
// # Durability and concurrency
//
// A Store is safe for concurrent use. Every write method returns only after
// its transaction committed, and bbolt syncs the file on commit. Concurrent
// writes are grouped into one transaction with bbolt's DB.Batch, so write
// functions may run more than once and recompute everything from the
// transaction. A user message gets its seq and its client-id lookup in the
// same transaction as its insert, so concurrent appends stay ordered and
// de-duplicated.
//
// Values read from bbolt are valid only inside their transaction; every
// method returns decoded copies. Transactions stay short: Users,
// Conversations and PurgeBefore work through keys a page at a time, each page
// in its own transaction, so a listing is not a snapshot.
//
// Erase and PurgeBefore compact the file (bbolt.Compact into a temporary
// file, sync, rename over the original, reopen) so deleted text is gone from
// the file's bytes. Compaction holds the store's lock for writing, so every
// other call waits until it finishes. Copies of deleted data outside the
// file (filesystem journals, backups, earlier disk blocks) are outside this
// package's reach.
package memory
