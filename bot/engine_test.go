package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
)

func TestNewRequiresDependencies(t *testing.T) {
	te := newTestEngine(t, nil, nil)
	full := te.opts
	tests := []struct {
		name   string
		mutate func(*Options)
	}{
		{name: "no_memory", mutate: func(o *Options) { o.Memory = nil }},
		{name: "no_catalog", mutate: func(o *Options) { o.Catalog = nil }},
		{name: "no_detector", mutate: func(o *Options) { o.Detector = nil }},
		{name: "no_prompt", mutate: func(o *Options) { o.Prompt = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := full
			tt.mutate(&o)
			if _, err := New(o); err == nil {
				t.Error("New accepted options with a missing dependency")
			}
		})
	}
}

func TestHelloReturnsHistoryAfterSeq(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	te := newTestEngine(t, nil, func(o *Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	s := Session{UserID: "v:h", Locale: "zh-CN"}

	first, err := te.Hello(ctx, s, 0)
	if err != nil {
		t.Fatalf("first Hello: %v", err)
	}
	if first.ConversationID == "" {
		t.Error("first Hello has no conversation id")
	}
	if len(first.History) != 0 {
		t.Errorf("first Hello has %d history items, want 0", len(first.History))
	}
	if first.SinceLastVisit != 0 {
		t.Errorf("first Hello SinceLastVisit = %v, want 0", first.SinceLastVisit)
	}
	r, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "有适合送礼的茶具吗"}, &recordingSink{})
	if err != nil {
		t.Fatalf("Turn: %v", err)
	}

	now = now.Add(2 * time.Hour)
	again, err := te.Hello(ctx, s, 1)
	if err != nil {
		t.Fatalf("second Hello: %v", err)
	}
	if again.ConversationID != first.ConversationID {
		t.Errorf("conversation id changed from %q to %q", first.ConversationID, again.ConversationID)
	}
	if len(again.History) != 1 || again.History[0].Seq != r.Seq {
		t.Fatalf("history after seq 1 = %+v, want only the reply", again.History)
	}
	item := again.History[0]
	if len(item.Products) != len(r.Products) {
		t.Errorf("history item has %d cards, the reply had %d", len(item.Products), len(r.Products))
	}
	if len(item.Products) > 0 && item.Products[0].ID == "tea-set" && item.Products[0].Title != "青瓷茶具套装" {
		t.Errorf("history card title = %q, want the zh title for a zh locale", item.Products[0].Title)
	}
	if again.SinceLastVisit <= 0 {
		t.Errorf("SinceLastVisit = %v, want the time since the first visit", again.SinceLastVisit)
	}
}

func TestEventUpdatesProfile(t *testing.T) {
	te := newTestEngine(t, nil, nil)
	ctx := context.Background()
	s := Session{UserID: "v:ev"}
	// A connection sends hello, which creates the profile, before any event.
	if _, err := te.Hello(ctx, s, 0); err != nil {
		t.Fatalf("Hello: %v", err)
	}
	events := []Event{
		{Type: "product_view", ProductID: "trail-boot"},
		{Type: "add_to_cart", ProductID: "trail-boot", Value: 129},
		{Type: "purchase", Value: 129},
		{Type: "remove_from_cart", ProductID: "tea-set", Value: 168},
	}
	for _, ev := range events {
		if err := te.Event(ctx, s, ev); err != nil {
			t.Fatalf("Event %s: %v", ev.Type, err)
		}
	}
	p, err := te.store.Profile(ctx, s.UserID)
	if err != nil {
		t.Fatalf("load profile: %v", err)
	}
	if got := p.CategoryAffinity["Shoes > Boots"]; got != 4 {
		t.Errorf("boots affinity = %v, want 4 (view 1 + cart 3)", got)
	}
	if got := p.CategoryAffinity["Home > Tea"]; got != -1 {
		t.Errorf("tea affinity = %v, want -1 from the removal", got)
	}
	if p.Purchases != 1 {
		t.Errorf("purchases = %d, want 1", p.Purchases)
	}
	if p.Revenue != 129 {
		t.Errorf("revenue = %v, want 129", p.Revenue)
	}
	stored, err := te.store.Events(ctx, s.UserID, time.Time{})
	if err != nil {
		t.Fatalf("load events: %v", err)
	}
	if len(stored) != len(events) || stored[0].Category != "Shoes > Boots" {
		t.Errorf("stored events = %+v, want 4 with the category filled in", stored)
	}
}

func TestOfferClickRewardsWithoutError(t *testing.T) {
	te := newTestEngine(t, nil, nil)
	ctx := context.Background()
	s := Session{UserID: "v:click", Locale: "en-US"}
	r, err := te.Turn(ctx, s, Incoming{ClientID: "m-1", Text: "waterproof boots"}, &recordingSink{})
	if err != nil {
		t.Fatalf("Turn: %v", err)
	}
	if r.Offer == nil {
		t.Fatal("a new user's first turn got no offer")
	}
	imps, err := te.store.Impressions(ctx, s.UserID)
	if err != nil || len(imps) != 1 || imps[0].OfferID != r.Offer.ID || imps[0].TurnID != r.TurnID {
		t.Fatalf("impressions = %+v, %v; want one for the shown offer", imps, err)
	}
	if err := te.Event(ctx, s, Event{Type: "offer_click", OfferID: r.Offer.ID, TurnID: r.TurnID}); err != nil {
		t.Fatalf("offer_click: %v", err)
	}
	if err := te.Event(ctx, s, Event{Type: "offer_click", OfferID: "no-such-offer"}); err != nil {
		t.Errorf("click on an offer never shown: %v", err)
	}
}

func TestCatalogQueries(t *testing.T) {
	te := newTestEngine(t, nil, nil)

	all := te.ListProducts(context.Background(), ProductQuery{Lang: "en"})
	if all.Total != len(testCatalog) || len(all.Products) != len(testCatalog) {
		t.Errorf("ListProducts = %d of %d, want all %d", len(all.Products), all.Total, len(testCatalog))
	}
	if got := strings.Join(all.Categories, ","); got != "Apparel,Home,Shoes" {
		t.Errorf("categories = %s, want Apparel,Home,Shoes", got)
	}
	page := te.ListProducts(context.Background(), ProductQuery{Lang: "zh", Category: "shoes", Limit: 1, Offset: 1})
	if page.Total != 2 || len(page.Products) != 1 {
		t.Fatalf("shoes page = %d of %d, want 1 of 2", len(page.Products), page.Total)
	}
	if id := page.Products[0].ID; id != "trail-boot" {
		t.Errorf("second shoe by id = %s, want trail-boot", id)
	}
	if page.Products[0].Title != "防水登山靴" {
		t.Errorf("zh title = %q", page.Products[0].Title)
	}

	card, category, ok := te.Product("tea-set", "zh")
	if !ok || card.Title != "青瓷茶具套装" || category != "Home > Tea" {
		t.Errorf("Product(tea-set, zh) = %+v %q %v", card, category, ok)
	}
	if _, _, ok := te.Product("missing", "en"); ok {
		t.Error("Product found an id that is not in the catalog")
	}

	oc, ok := te.OfferCard("welcome10", "zh", "gift_shopping", "spring_festival")
	if !ok || oc.Code != "WELCOME10" || !strings.Contains(oc.BannerURL, "festival=spring_festival") ||
		!strings.Contains(oc.BannerURL, "lang=zh") {
		t.Errorf("OfferCard = %+v %v", oc, ok)
	}
	if _, ok := te.OfferCard("missing", "en", "", ""); ok {
		t.Error("OfferCard found an unknown offer")
	}
}

func TestSearchTextWidensShortFollowUps(t *testing.T) {
	recent := []memory.Message{
		{Role: memory.RoleUser, Text: "waterproof boots"},
		{Role: memory.RoleAssistant, Text: "Here are some boots."},
	}
	tests := []struct {
		name   string
		text   string
		intent string
		want   string
	}{
		{name: "short_follow_up", text: "black?", intent: "product_search", want: "waterproof boots black?"},
		{name: "chinese_follow_up", text: "黑色的呢", intent: "product_search", want: "waterproof boots 黑色的呢"},
		{name: "price_intent", text: "anything cheaper than these ones here", intent: "price",
			want: "waterproof boots anything cheaper than these ones here"},
		{name: "full_query", text: "a red wool scarf for my mother", intent: "gift", want: "a red wool scarf for my mother"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := searchText(tt.text, recent, tt.intent); got != tt.want {
				t.Errorf("searchText(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	if got := searchText("cheaper?", nil, "price"); got != "cheaper?" {
		t.Errorf("searchText without history = %q", got)
	}
}

func TestFormatPrice(t *testing.T) {
	tests := []struct {
		amount   float64
		currency string
		want     string
	}{
		{19.99, "USD", "$19.99"},
		{88, "CNY", "¥88"},
		{12.5, "EUR", "€12.50"},
		{30, "CHF", "30 CHF"},
		{7, "", "7"},
	}
	for _, tt := range tests {
		if got := formatPrice(tt.amount, tt.currency); got != tt.want {
			t.Errorf("formatPrice(%v, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestDescribeFilter(t *testing.T) {
	tests := []struct {
		name     string
		f        retrieval.Filter
		lang     string
		currency string
		want     string
	}{
		{name: "max_en", f: retrieval.Filter{MaxPrice: 100}, lang: "en", currency: "USD", want: "under $100"},
		{name: "range_zh", f: retrieval.Filter{MinPrice: 50, MaxPrice: 100}, lang: "zh", currency: "CNY", want: "¥50到¥100"},
		{name: "max_zh_dollars", f: retrieval.Filter{MaxPrice: 28.17}, lang: "zh", currency: "USD", want: "$28.17以内"},
		{name: "min_color_stock", f: retrieval.Filter{MinPrice: 20, Colors: []string{"black"}, InStockOnly: true},
			lang: "en", currency: "USD", want: "over $20, black, in stock"},
		{name: "empty", f: retrieval.Filter{}, lang: "en", currency: "USD", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeFilter(tt.f, tt.lang, tt.currency); got != tt.want {
				t.Errorf("describeFilter = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummarizeKeepsSixEntries(t *testing.T) {
	window := 2
	summary := ""
	for i := range 8 {
		recent := []memory.Message{
			{Role: memory.RoleUser, Text: "question " + string(rune('a'+i))},
			{Role: memory.RoleAssistant, Text: "answer"},
		}
		summary = summarize(summary, recent, window)
	}
	entries := strings.Split(summary, " | ")
	if len(entries) != 6 || entries[0] != "question c" || entries[5] != "question h" {
		t.Errorf("summary = %q, want the last six questions", summary)
	}
	if got := summarize("kept", []memory.Message{{Role: memory.RoleUser, Text: "x"}}, 2); got != "kept" {
		t.Errorf("summary with history inside the window = %q, want it unchanged", got)
	}
}

func TestClipCountsRunes(t *testing.T) {
	if got := clip("青瓷茶具套装", 4); got != "青瓷茶…" {
		t.Errorf("clip = %q, want 青瓷茶…", got)
	}
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip of a short string = %q", got)
	}
}

func TestQuickRepliesFollowIntent(t *testing.T) {
	tests := []struct {
		intent   string
		lang     string
		products bool
		want     string
	}{
		{intent: "complaint", lang: "en", want: "Talk to a person"},
		{intent: "shipping", lang: "zh", want: "包邮吗？"},
		{intent: "product_search", lang: "en", products: true, want: "Anything cheaper?"},
		{intent: "greeting", lang: "zh", want: "有什么推荐？"},
	}
	for _, tt := range tests {
		got := quickReplies(tt.intent, tt.lang, tt.products)
		if !strings.Contains(strings.Join(got, "|"), tt.want) {
			t.Errorf("quickReplies(%s, %s) = %v, want %q among them", tt.intent, tt.lang, got, tt.want)
		}
	}
}
