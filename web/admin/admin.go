package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/concierge-chat/concierge/memory"
)

// Store is the part of the user store the console uses. *memory.Store
// implements it.
type Store interface {
	Conversations(ctx context.Context, q memory.ConversationQuery) ([]memory.ConversationSummary, string, error)
	Transcript(ctx context.Context, userID string) (memory.Profile, []memory.Message, []memory.Event, error)
	Profile(ctx context.Context, userID string) (memory.Profile, error)
	UpdateProfile(ctx context.Context, userID string, fn func(*memory.Profile) error) (memory.Profile, error)
	AppendReply(ctx context.Context, userID, role, text string, turn *memory.TurnRecord) (memory.Message, error)
	Annotate(ctx context.Context, userID string, seq uint64, a memory.Annotation) error
	Erase(ctx context.Context, userID string) error
}

// Live reaches the shoppers' open WebSocket connections. *web.Server
// implements it.
type Live interface {
	// SendToUser sends a frame to every open connection of the user and
	// returns how many there were.
	SendToUser(userID string, frame any) int
	// ActiveUsers returns the users with an open connection.
	ActiveUsers() []string
}

// Catalog imports a catalog file into the running product index.
type Catalog interface {
	ImportCatalog(ctx context.Context, r io.Reader, req CatalogRequest) (CatalogResult, error)
}

// CatalogRequest describes an uploaded catalog file.
type CatalogRequest struct {
	Name   string // file name, used to detect the format
	Format string // empty: detect from the content and the name
	// Prune removes the products that are not in the file.
	Prune bool
}

// CatalogResult is the outcome of a catalog upload.
type CatalogResult struct {
	Format   string   `json:"format"`
	Imported int      `json:"imported"`
	Skipped  int      `json:"skipped"`
	Errors   []string `json:"errors,omitempty"` // the first rejected rows, with line numbers
	Before   int      `json:"products_before"`
	After    int      `json:"products_after"`
}

// ErrCatalogInput marks a catalog upload that cannot be read, such as a
// file of an unknown format. The API responds to it with 400.
var ErrCatalogInput = errors.New("invalid catalog file")

// ErrCatalogUnavailable marks a catalog upload that came before the index
// was loaded. The API responds to it with 503.
var ErrCatalogUnavailable = errors.New("catalog index unavailable")

// Options configures New. Store and TokenHash are required.
type Options struct {
	Store Store
	// Live sends staff frames to shoppers. When it is nil, staff messages
	// are stored and reach the shopper on reconnect.
	Live Live
	// Catalog receives uploads. When it is nil, catalog uploads get 501.
	Catalog Catalog
	// Reports computes experiment reports. When it is nil, reports get 501.
	Reports Reports
	// Segments recomputes user segments. When it is nil, runs get 501.
	Segments Segments
	// TokenHash is the SHA-256 of the staff token.
	TokenHash [32]byte
	// Mask hides personal data in the live event stream, as the store masks
	// stored text. When it is nil, events show text as written.
	Mask   func(string) string
	Logger *slog.Logger
	Now    func() time.Time
}

// Limits of request bodies and fields.
const (
	maxJSONBody    = 64 << 10
	maxCatalogBody = 256 << 20
	maxAgentRunes  = 64
	maxTextRunes   = 4000
	maxNoteRunes   = 2000
)

// Handler serves the console and the admin API.
type Handler struct {
	store     Store
	live      Live
	catalog   Catalog
	reports   Reports
	segments  Segments
	tokenHash [32]byte
	mask      func(string) string
	log       *slog.Logger
	now       func() time.Time
	hub       *hub
	lockout   *lockout
	mux       *http.ServeMux
}

// New checks opts and returns a Handler.
func New(opts Options) (*Handler, error) {
	if opts.Store == nil {
		return nil, errors.New("admin: Store is required")
	}
	if opts.TokenHash == ([32]byte{}) {
		return nil, errors.New("admin: TokenHash is required")
	}
	h := &Handler{
		store: opts.Store, live: opts.Live, catalog: opts.Catalog, reports: opts.Reports,
		segments:  opts.Segments,
		tokenHash: opts.TokenHash,
		mask:      opts.Mask, log: opts.Logger, now: opts.Now, hub: newHub(),
	}
	if h.mask == nil {
		h.mask = func(s string) string { return s }
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.lockout = newLockout(h.now)
	h.routes()
	return h, nil
}

// HashToken returns the SHA-256 of a staff token, the form Options.TokenHash
// and the store keep.
func HashToken(token string) [32]byte {
	return sha256.Sum256([]byte(token))
}

func (h *Handler) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin", h.serveConsole)
	mux.HandleFunc("GET /admin/", h.serveConsole)

	api := map[string]http.HandlerFunc{
		"GET /api/admin/conversations":                        h.listConversations,
		"GET /api/admin/conversations/{user_id}":              h.transcript,
		"POST /api/admin/conversations/{user_id}/takeover":    h.takeover,
		"POST /api/admin/conversations/{user_id}/messages":    h.agentMessage,
		"POST /api/admin/conversations/{user_id}/handback":    h.handback,
		"POST /api/admin/conversations/{user_id}/annotations": h.annotate,
		"GET /api/admin/live":                                 h.liveConversations,
		"GET /api/admin/events":                               h.events,
		"GET /api/admin/export":                               h.export,
		"DELETE /api/admin/users/{user_id}":                   h.erase,
		"POST /api/admin/catalog":                             h.uploadCatalog,
		"GET /api/admin/reports/experiments":                  h.experimentReport,
		"POST /api/admin/segments":                            h.runSegments,
	}
	for pattern, fn := range api {
		mux.Handle(pattern, h.authorized(fn))
	}
	mux.Handle("/api/admin/", h.authorized(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", "no admin API route for "+r.Method+" "+r.URL.Path+"; the routes are listed in docs/admin.md")
	}))
	h.mux = mux
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// Close ends the open event streams. The handler keeps serving other
// requests, and later event streams end at once.
func (h *Handler) Close() {
	h.hub.close()
}

// authorized rejects requests without the staff token. The token is hashed
// and the hashes compared in constant time, so response timing does not
// reveal how much of a guess matched.
func (h *Handler) authorized(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if blocked, wait := h.lockout.blocked(addr); blocked {
			writeLockedOut(w, wait)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || subtle.ConstantTimeCompare(sum[:], h.tokenHash[:]) != 1 {
			h.lockout.fail(addr)
			h.log.Warn("staff token rejected", "remote", addr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="concierge-admin"`)
			writeError(w, http.StatusUnauthorized, "",
				"missing or invalid staff token: send Authorization: Bearer TOKEN, using the token "+
					"printed when the server first started or set in CONCIERGE_ADMIN_TOKEN")
			return
		}
		next(w, r)
	})
}

// apiError is the body of every failed API request.
type apiError struct {
	Error     string `json:"error"`
	Parameter string `json:"parameter,omitempty"`
}

func writeError(w http.ResponseWriter, status int, param, msg string) {
	writeJSON(w, status, apiError{Error: msg, Parameter: param})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// json.Encoder escapes <, > and & as \u003c, \u003e and \u0026, so a
	// shopper's markup cannot form HTML even if the body is misread.
	_ = json.NewEncoder(w).Encode(v)
}

// decodeBody reads a JSON request body of at most maxJSONBody bytes into v
// and rejects unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body", "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// storeError writes the response for a failed store call: 404 for an
// unknown user or message, else 500 with the error logged.
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, userID string, err error) {
	if errors.Is(err, memory.ErrNotFound) {
		writeError(w, http.StatusNotFound, "user_id", "no conversation or message found for user "+userID)
		return
	}
	h.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "user_id", userID, "error", err)
	writeError(w, http.StatusInternalServerError, "", "the server failed; retry, and check the server log if it persists")
}
