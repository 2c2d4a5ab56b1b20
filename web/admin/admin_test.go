package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/web/admin"
)

func TestAPIRejectsMissingOrWrongToken(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	tests := []struct {
		name, token string
	}{
		{"no_token", ""},
		{"wrong_token", "guess"},
		{"token_prefix", testToken[:5]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.doToken(t, http.MethodGet, "/api/admin/conversations", "", tc.token)
			if status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", status)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("401 body is not JSON: %s", body)
			}
			if !strings.Contains(e.Error, "CONCIERGE_ADMIN_TOKEN") {
				t.Errorf("error %q does not say how to get a token", e.Error)
			}
		})
	}
}

func TestConsolePageIsPublicWithCSP(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	for _, path := range []string{"/admin", "/admin/", "/admin/console.js", "/admin/console.css"} {
		resp, err := f.srv.Client().Get(f.srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q does not limit scripts", path, csp)
		}
	}
	resp, err := f.srv.Client().Get(f.srv.URL + "/admin/../../etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("path outside the console answered 200")
	}
}

type listBody struct {
	Conversations []struct {
		ConversationID string   `json:"conversation_id"`
		UserID         string   `json:"user_id"`
		Messages       int      `json:"messages"`
		LastText       string   `json:"last_text"`
		ScenarioLabels []string `json:"scenario_labels"`
		Intents        []string `json:"intents"`
		HandedOver     bool     `json:"handed_over"`
	} `json:"conversations"`
	NextCursor string `json:"next_cursor"`
}

func (l listBody) users() []string {
	var out []string
	for _, c := range l.Conversations {
		out = append(out, c.UserID)
	}
	return out
}

func seedShoppers(t *testing.T, f *fixture) {
	t.Helper()
	seed(t, f.store,
		turn{user: "u_tea", text: "有适合送妈妈的茶具吗？", reply: "这几款茶具很适合", label: "gift_shopping",
			intent: "product_search", emotion: "positive", offer: "welcome10", segment: "new", variant: "a"},
		turn{user: "u_boots", text: "waterproof boots under $150", reply: "These boots fit", label: "bargain_hunting",
			intent: "product_search", emotion: "neutral", segment: "loyal", variant: "b"},
		turn{user: "u_angry", text: "My order is late again, I want a person", reply: "A staff member will join",
			label: "complaint", intent: "human", emotion: "angry", segment: "loyal", variant: "a"},
	)
	if _, err := f.store.UpdateProfile(context.Background(), "u_angry", func(p *memory.Profile) error {
		p.HandedOver = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestListConversationsFilters(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all_newest_first", "", []string{"u_angry", "u_boots", "u_tea"}},
		{"label", "label=gift_shopping", []string{"u_tea"}},
		{"intent", "intent=human", []string{"u_angry"}},
		{"emotion", "emotion=neutral", []string{"u_boots"}},
		{"segment", "segment=loyal", []string{"u_angry", "u_boots"}},
		{"offer", "offer=welcome10", []string{"u_tea"}},
		{"variant", "variant=a", []string{"u_angry", "u_tea"}},
		{"handed_over", "handed_over=true", []string{"u_angry"}},
		{"not_handed_over", "handed_over=false", []string{"u_boots", "u_tea"}},
		{"text_chinese", "q=" + "茶具", []string{"u_tea"}},
		{"text_english", "q=Waterproof", []string{"u_boots"}},
		{"text_no_match", "q=umbrella", nil},
		{"combined", "segment=loyal&q=order", []string{"u_angry"}},
		{"from_future", "from=2999-01-01", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got listBody
			f.getJSON(t, "/api/admin/conversations?"+tc.query, &got)
			if strings.Join(got.users(), ",") != strings.Join(tc.want, ",") {
				t.Errorf("users = %v, want %v", got.users(), tc.want)
			}
		})
	}
}

func TestListConversationsRowFields(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	var got listBody
	f.getJSON(t, "/api/admin/conversations?label=complaint", &got)
	if len(got.Conversations) != 1 {
		t.Fatalf("got %d rows, want 1", len(got.Conversations))
	}
	row := got.Conversations[0]
	if row.ConversationID != memory.ConversationID("u_angry") {
		t.Errorf("conversation_id = %q, want %q", row.ConversationID, memory.ConversationID("u_angry"))
	}
	if row.Messages != 2 {
		t.Errorf("messages = %d, want 2", row.Messages)
	}
	if row.LastText != "A staff member will join" {
		t.Errorf("last_text = %q", row.LastText)
	}
	if !row.HandedOver {
		t.Errorf("handed_over = false, want true")
	}
}

func TestListConversationsPaging(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		var got listBody
		f.getJSON(t, "/api/admin/conversations?limit=1&cursor="+cursor, &got)
		seen = append(seen, got.users()...)
		if got.NextCursor == "" {
			break
		}
		cursor = got.NextCursor
	}
	if strings.Join(seen, ",") != "u_angry,u_boots,u_tea" {
		t.Errorf("paged users = %v, want u_angry,u_boots,u_tea", seen)
	}
}

func TestListConversationsBadParameter(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	tests := []struct {
		name, query, param string
	}{
		{"from_not_time", "from=yesterday", "from"},
		{"to_before_from", "from=2026-12-04&to=2026-12-01", "to"},
		{"limit_zero", "limit=0", "limit"},
		{"limit_too_large", "limit=501", "limit"},
		{"handed_over_not_bool", "handed_over=maybe", "handed_over"},
		{"unknown_parameter", "lable=gift_shopping", "lable"},
		{"bad_cursor", "cursor=%21%21", "cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.do(t, http.MethodGet, "/api/admin/conversations?"+tc.query, "")
			if status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", status, body)
			}
			var e struct {
				Error     string `json:"error"`
				Parameter string `json:"parameter"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if e.Parameter != tc.param {
				t.Errorf("parameter = %q, want %q", e.Parameter, tc.param)
			}
			if !strings.Contains(e.Error, tc.param) {
				t.Errorf("error %q does not name %s", e.Error, tc.param)
			}
		})
	}
}

func TestTranscriptHasDecisions(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	ctx := context.Background()
	if err := f.store.AppendEvent(ctx, "u_tea", memory.Event{Type: "feedback", TurnID: "t_u_teaa", Rating: 1}); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Profile  memory.Profile `json:"profile"`
		Messages []struct {
			Seq      uint64 `json:"seq"`
			Role     string `json:"role"`
			Text     string `json:"text"`
			Feedback int    `json:"feedback"`
			Turn     *struct {
				TurnID        string          `json:"turn_id"`
				ScenarioLabel string          `json:"scenario_label"`
				Intent        string          `json:"intent"`
				Provider      string          `json:"provider"`
				Products      []memory.Scored `json:"products"`
				Details       json.RawMessage `json:"details"`
			} `json:"turn"`
		} `json:"messages"`
		Events []memory.Event `json:"events"`
	}
	f.getJSON(t, "/api/admin/conversations/u_tea", &got)

	if got.Profile.UserID != "u_tea" {
		t.Errorf("profile user_id = %q", got.Profile.UserID)
	}
	if len(got.Messages) != 2 {
		t.Fatalf("got %d messages, want 2", len(got.Messages))
	}
	if got.Messages[0].Role != memory.RoleUser || got.Messages[0].Turn != nil {
		t.Errorf("first message = %+v, want a user message without decision", got.Messages[0])
	}
	bot := got.Messages[1]
	if bot.Turn == nil {
		t.Fatal("bot message has no decision record")
	}
	if bot.Turn.ScenarioLabel != "gift_shopping" || bot.Turn.Intent != "product_search" {
		t.Errorf("decision = %+v", bot.Turn)
	}
	if len(bot.Turn.Products) != 1 || bot.Turn.Products[0].Score != 0.82 {
		t.Errorf("products = %+v, want tea-set with score 0.82", bot.Turn.Products)
	}
	var details struct {
		Scenario struct {
			Reasons []string `json:"reasons"`
		} `json:"scenario"`
		OfferReason string `json:"offer_reason"`
	}
	if err := json.Unmarshal(bot.Turn.Details, &details); err != nil {
		t.Fatalf("details are not a JSON object (%s): %v", bot.Turn.Details, err)
	}
	if len(details.Scenario.Reasons) != 1 || details.OfferReason == "" {
		t.Errorf("details = %+v", details)
	}
	if bot.Feedback != 1 {
		t.Errorf("feedback = %d, want 1", bot.Feedback)
	}
	if len(got.Events) != 1 || got.Events[0].Type != "feedback" {
		t.Errorf("events = %+v, want one feedback event", got.Events)
	}
}

func TestTranscriptUnknownUser(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	status, body := f.do(t, http.MethodGet, "/api/admin/conversations/nobody", "")
	if status != http.StatusNotFound {
		t.Errorf("status = %d, want 404; body %s", status, body)
	}
}

func TestAnnotateMessage(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	status, body := f.do(t, http.MethodPost, "/api/admin/conversations/u_boots/annotations",
		`{"seq":2,"label":"good_answer","note":"price bound respected","author":"Lin"}`)
	if status != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %s", status, body)
	}
	_, msgs, _, err := f.store.Transcript(context.Background(), "u_boots")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(msgs[1].Annotations); n != 1 {
		t.Fatalf("reply has %d annotations, want 1", n)
	}
	if a := msgs[1].Annotations[0]; a.Label != "good_answer" || a.Author != "Lin" {
		t.Errorf("annotation = %+v", a)
	}

	tests := []struct {
		name, body string
		want       int
	}{
		{"missing_seq", `{"label":"x"}`, http.StatusBadRequest},
		{"empty_note_and_label", `{"seq":1}`, http.StatusBadRequest},
		{"unknown_field", `{"seq":1,"label":"x","colour":"red"}`, http.StatusBadRequest},
		{"unknown_message", `{"seq":99,"label":"x"}`, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.do(t, http.MethodPost, "/api/admin/conversations/u_boots/annotations", tc.body)
			if status != tc.want {
				t.Errorf("status = %d, want %d; body %s", status, tc.want, body)
			}
		})
	}
}

func TestAPIOutputEscapesMarkup(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	xss := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	seed(t, f.store, turn{user: "u_xss", text: xss, reply: "You wrote " + xss, label: "browsing"})
	for _, path := range []string{"/api/admin/conversations", "/api/admin/conversations/u_xss",
		"/api/admin/export?format=jsonl"} {
		status, body := f.do(t, http.MethodGet, path, "")
		if status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, status)
		}
		if strings.Contains(string(body), "<script>") || strings.Contains(string(body), "<img") {
			t.Errorf("GET %s: body contains raw markup: %s", path, body)
		}
		if !strings.Contains(string(body), `\u003cscript\u003e`) {
			t.Errorf("GET %s: body lacks the escaped text", path)
		}
	}
}
