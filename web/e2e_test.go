package web_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

// bootIDs are the waterproof boots of testdata/catalog.jsonl under $150.
var bootIDs = []string{"trail-boot", "city-rain-boot"}

// TestEndToEndTurnAndRestart runs one shopper through the whole stack: a
// real bbolt file, the retrieval index over testdata/catalog.jsonl,
// langchaingo's OpenAI client against a scripted fake, and a WebSocket
// client against an httptest server. It then restarts the server on the
// same files and checks that history survives and reaches the prompt.
func TestEndToEndTurnAndRestart(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	scripted := []string{"Good evening! ", "The Trail Waterproof Boot ", "at $129 keeps your feet dry."}
	fake.Script(llmtest.Reply{Chunks: scripted})
	dir := t.TempDir()
	e := newEnv(t, envOptions{dir: dir, fake: fake})

	c := wstest.Dial(t, e.URL)
	ready := c.Hello(t, protocol.Hello{Locale: "en-US", Timezone: "America/New_York",
		Device: "desktop", Page: protocol.Page{Kind: "home"}})
	if ready.VisitorID == "" {
		t.Fatal("ready.visitor_id is empty for a new visitor")
	}
	if !strings.HasPrefix(ready.UserID, "v:") {
		t.Errorf("ready.user_id = %q, want a v: visitor user", ready.UserID)
	}
	if len(ready.History) != 0 {
		t.Errorf("new visitor got %d history messages, want 0", len(ready.History))
	}

	query := "waterproof boots under $150"
	r := c.Ask(t, "m-1", query)
	want := strings.Join(scripted, "")
	if r.Text != want {
		t.Errorf("joined deltas = %q, want %q", r.Text, want)
	}
	if r.End.Text != want {
		t.Errorf("reply.end text = %q, want %q", r.End.Text, want)
	}
	if len(r.Deltas) != len(scripted) {
		t.Errorf("got %d deltas, want %d", len(r.Deltas), len(scripted))
	}
	if r.Start.UserSeq != 1 {
		t.Errorf("reply.start user_seq = %d, want 1", r.Start.UserSeq)
	}
	if r.End.Seq != 2 {
		t.Errorf("reply.end seq = %d, want 2", r.End.Seq)
	}
	if r.End.TurnID == "" {
		t.Error("reply.end turn_id is empty")
	}
	if r.End.TurnID != r.Start.TurnID {
		t.Errorf("reply.end turn_id = %q, want reply.start's %q", r.End.TurnID, r.Start.TurnID)
	}
	checkBootCards(t, r.End)
	if r.End.Offer == nil {
		t.Fatal("reply.end has no offer; a new visitor is eligible for the welcome offer")
	}
	if r.End.Scenario == nil || r.End.Scenario.Label == "" {
		t.Fatalf("reply.end scenario = %+v, want a label", r.End.Scenario)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake LLM got %d requests, want 1", len(reqs))
	}
	checkSystemPrompt(t, reqs[0], r.End)

	// A second connection of the same visitor gets the stored turn in its history.
	c2 := wstest.Dial(t, e.URL)
	again := c2.Hello(t, protocol.Hello{VisitorID: ready.VisitorID})
	checkHistory(t, again, query, want, r.End)
	if again.UserID != ready.UserID {
		t.Errorf("second connection user_id = %q, want %q", again.UserID, ready.UserID)
	}

	// Restart on the same bbolt file and index directory. The new index
	// imports nothing, so any product card proves the index persisted.
	e.stop()
	fake.Script(llmtest.Reply{Chunks: []string{"The City Rain Boot ", "is $79."}})
	e2 := newEnv(t, envOptions{dir: dir, fake: fake, noCatalog: true})
	if n := e2.index.Len(); n != 10 {
		t.Fatalf("reopened index holds %d products, want the 10 imported before the restart", n)
	}
	c3 := wstest.Dial(t, e2.URL)
	resumed := c3.Hello(t, protocol.Hello{VisitorID: ready.VisitorID, ResumeAfter: 0, Locale: "en-US"})
	if resumed.UserID != ready.UserID {
		t.Fatalf("after restart user_id = %q, want %q", resumed.UserID, ready.UserID)
	}
	checkHistory(t, resumed, query, want, r.End)

	r2 := c3.Ask(t, "m-2", "any cheaper boots?")
	if r2.End.Seq != 4 {
		t.Errorf("reply after restart seq = %d, want 4", r2.End.Seq)
	}
	reqs = fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("fake LLM got %d requests, want 2", len(reqs))
	}
	checkPromptHistory(t, reqs[1], query, want, "any cheaper boots?")
}

// checkBootCards checks that the cards are boots from the test catalog
// that match the query's price bound.
func checkBootCards(t *testing.T, end protocol.ReplyEnd) {
	t.Helper()
	if len(end.Products) == 0 {
		t.Fatal("reply.end has no product cards for a product query")
	}
	if end.Relaxed {
		t.Errorf("reply.end relaxed = true, but boots under $150 exist")
	}
	if !slices.Contains(bootIDs, end.Products[0].ID) {
		t.Errorf("first card = %q, want one of %v", end.Products[0].ID, bootIDs)
	}
	for _, p := range end.Products {
		if p.Price > 150 {
			t.Errorf("card %s costs %v, over the $150 bound", p.ID, p.Price)
		}
		if p.Title == "" || p.URL == "" || p.Image == "" || p.Currency == "" {
			t.Errorf("card %s is incomplete: %+v", p.ID, p)
		}
	}
}

func checkSystemPrompt(t *testing.T, req llmtest.Request, end protocol.ReplyEnd) {
	t.Helper()
	if len(req.Messages) < 2 || req.Messages[0].Role != "system" {
		t.Fatalf("LLM request messages = %+v, want a system prompt first", req.Messages)
	}
	if !req.Stream {
		t.Error("LLM request is not streamed")
	}
	sys := req.Messages[0].Content
	for _, p := range end.Products {
		if !strings.Contains(sys, p.Title) {
			t.Errorf("system prompt lacks product title %q", p.Title)
		}
	}
	if !strings.Contains(sys, end.Offer.Code) {
		t.Errorf("system prompt lacks offer code %q", end.Offer.Code)
	}
	if !strings.Contains(sys, end.Offer.Title) {
		t.Errorf("system prompt lacks offer title %q", end.Offer.Title)
	}
	if !strings.Contains(sys, "Scenario: "+end.Scenario.Label) {
		t.Errorf("system prompt lacks scenario %q", end.Scenario.Label)
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Role != "user" || last.Content != "waterproof boots under $150" {
		t.Errorf("last LLM message = %+v, want the shopper's message", last)
	}
}

func checkHistory(t *testing.T, ready protocol.Ready, userText, replyText string, end protocol.ReplyEnd) {
	t.Helper()
	if len(ready.History) != 2 {
		t.Fatalf("history has %d messages, want 2: %+v", len(ready.History), ready.History)
	}
	u, a := ready.History[0], ready.History[1]
	if u.Seq != 1 || u.Role != "user" || u.Text != userText {
		t.Errorf("history[0] = %+v, want seq 1 user %q", u, userText)
	}
	if a.Seq != 2 || a.Role != "assistant" || a.Text != replyText {
		t.Errorf("history[1] = %+v, want seq 2 assistant %q", a, replyText)
	}
	if a.TurnID != end.TurnID {
		t.Errorf("history[1] turn_id = %q, want %q", a.TurnID, end.TurnID)
	}
	if len(a.Products) != len(end.Products) {
		t.Errorf("history[1] has %d product cards, want %d", len(a.Products), len(end.Products))
	}
}

func checkPromptHistory(t *testing.T, req llmtest.Request, userText, replyText, latest string) {
	t.Helper()
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if len(req.Messages) != 4 {
		t.Fatalf("LLM request roles = %v, want system, user, assistant, user", roles)
	}
	if m := req.Messages[1]; m.Role != "user" || m.Content != userText {
		t.Errorf("prompt history[1] = %+v, want user %q", m, userText)
	}
	if m := req.Messages[2]; m.Role != "assistant" || m.Content != replyText {
		t.Errorf("prompt history[2] = %+v, want assistant %q", m, replyText)
	}
	if m := req.Messages[3]; m.Role != "user" || m.Content != latest {
		t.Errorf("prompt history[3] = %+v, want user %q", m, latest)
	}
}

// TestEndToEndDenseEmbedderThroughChromem runs a turn with the index
// embedding through langchaingo's OpenAI client, so the vector side of
// the search is a chromem-go collection, and checks the reply's cards and
// that the catalog and the query were embedded by the server.
func TestEndToEndDenseEmbedderThroughChromem(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	fake.Script(llmtest.Reply{Chunks: []string{"These boots ", "fit."}})
	var calls atomic.Int64
	e := newEnv(t, envOptions{fake: fake, denseEmbeddings: fake, embeddingCalls: &calls})
	afterImport := calls.Load()
	if afterImport == 0 {
		t.Fatal("the catalog import made no embedding request")
	}

	c := wstest.Dial(t, e.URL)
	c.Hello(t, protocol.Hello{Locale: "en-US", Timezone: "America/New_York"})
	r := c.Ask(t, "m-1", "waterproof boots under $150")
	if r.End.Text != "These boots fit." {
		t.Errorf("reply.end text = %q", r.End.Text)
	}
	var cards []string
	for _, p := range r.End.Products {
		cards = append(cards, p.ID)
	}
	if len(cards) == 0 || !slices.Contains(bootIDs, cards[0]) {
		t.Errorf("cards = %v, want a waterproof boot first (one of %v)", cards, bootIDs)
	}
	if calls.Load() <= afterImport {
		t.Errorf("embedding requests after the turn = %d, want the query embedded too (catalog took %d)",
			calls.Load(), afterImport)
	}
}
