// Package admin serves the staff console at /admin and its JSON API under
// /api/admin/: the conversation list with filters and full-text search,
// transcripts with the bot's decision records, live takeover of a
// conversation by a staff member, annotations, streamed exports, erasure of
// a user's data and catalog upload.
//
// Every /api/admin/ request needs an Authorization: Bearer header whose
// token hashes (SHA-256) to Options.TokenHash. The console page itself is
// static and asks the staff member for the token.
//
// The package declares the small interfaces it needs (Store, Live, Catalog)
// and receives their implementations from the command that wires the
// server; it imports memory for data types only. A Handler is safe for
// concurrent use. Close ends the open event streams, so that
// http.Server.Shutdown need not wait for them.
package admin
