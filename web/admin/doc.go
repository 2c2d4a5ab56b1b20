// Package admin serves the staff console at /admin and its JSON API under
// /api/admin/. The API lists and searches conversations, returns
// transcripts with the bot's decision records and lets a staff member take a
// conversation over. It also stores annotations, streams exports, erases a
// user's data and imports catalog uploads.
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
