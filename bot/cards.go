package bot

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

// ProductCard is a product as a reply shows it.
type ProductCard struct {
	ID             string  `json:"id"`
	Title          string  `json:"title"`
	Price          float64 `json:"price"`
	CompareAtPrice float64 `json:"compare_at_price,omitempty"`
	Currency       string  `json:"currency"`
	URL            string  `json:"url"`
	Image          string  `json:"image"`
	InStock        bool    `json:"in_stock"`
}

// OfferCard is an offer as a reply shows it.
type OfferCard struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Copy      string  `json:"copy"`
	Code      string  `json:"code"`
	Kind      string  `json:"kind"`
	Value     float64 `json:"value,omitempty"`
	BannerURL string  `json:"banner_url"`
}

// ScenarioCard is the part of the scenario sent to clients.
type ScenarioCard struct {
	Label     string   `json:"label"`
	Intent    string   `json:"intent"`
	Emotion   string   `json:"emotion"`
	TimeOfDay string   `json:"time_of_day"`
	Festival  string   `json:"festival"`
	Reasons   []string `json:"reasons"`
}

func productCard(p retrieval.Product, lang string) ProductCard {
	image := p.Image
	// Images the server draws carry the title, so they follow the language.
	if strings.HasPrefix(image, "/img/products/") && lang == "zh" {
		image += "?lang=zh"
	}
	return ProductCard{ID: p.ID, Title: p.TitleIn(lang), Price: p.Price,
		CompareAtPrice: p.CompareAtPrice, Currency: p.Currency, URL: p.URL,
		Image: image, InStock: p.InStock}
}

func descriptionIn(p retrieval.Product, lang string) string {
	if t, ok := p.Localized[lang]; ok && t.Description != "" {
		return t.Description
	}
	return p.Description
}

func offerCard(o offer.Offer, lang string, sc scenario.Scenario) *OfferCard {
	title, copy := o.Text(lang)
	q := url.Values{"lang": {lang}, "scenario": {sc.Label}}
	if sc.Festival != nil {
		q.Set("festival", sc.Festival.ID)
	}
	return &OfferCard{ID: o.ID, Title: title, Copy: copy, Code: o.Code, Kind: o.Kind,
		Value:     o.Value,
		BannerURL: "/api/offers/" + url.PathEscape(o.ID) + "/banner.svg?" + q.Encode()}
}

func scenarioCard(sc scenario.Scenario) ScenarioCard {
	c := ScenarioCard{Label: sc.Label, Intent: sc.Intent.Label, Emotion: sc.Emotion.Label,
		TimeOfDay: sc.TimeOfDay, Reasons: sc.Reasons}
	if c.Reasons == nil {
		c.Reasons = []string{}
	}
	if sc.Festival != nil {
		c.Festival = sc.Festival.ID
	}
	return c
}

// describeFilter writes the filter the shopper stated, for a reply that
// reports that nothing matched it.
func describeFilter(f retrieval.Filter, lang, currency string) string {
	var parts []string
	zh := lang == "zh"
	lo, hi := formatPrice(f.MinPrice, currency), formatPrice(f.MaxPrice, currency)
	switch {
	case f.MinPrice > 0 && f.MaxPrice > 0:
		parts = append(parts, pick(zh, lo+"到"+hi, "between "+lo+" and "+hi))
	case f.MaxPrice > 0:
		parts = append(parts, pick(zh, hi+"以内", "under "+hi))
	case f.MinPrice > 0:
		parts = append(parts, pick(zh, lo+"以上", "over "+lo))
	}
	parts = append(parts, f.Colors...)
	parts = append(parts, f.Brands...)
	parts = append(parts, f.Categories...)
	if f.InStockOnly {
		parts = append(parts, pick(zh, "有货", "in stock"))
	}
	return strings.Join(parts, pick(zh, "、", ", "))
}

func pick(zh bool, zhText, enText string) string {
	if zh {
		return zhText
	}
	return enText
}

// quickReplies suggests follow-ups that fit the intent, in the reply's
// language.
func quickReplies(intent, lang string, hasProducts bool) []string {
	zh := lang == "zh"
	switch {
	case intent == "complaint" || intent == "return_refund" || intent == "order_status":
		return []string{pick(zh, "转人工客服", "Talk to a person"), pick(zh, "退换货政策", "Return policy")}
	case intent == "shipping":
		return []string{pick(zh, "多久能到？", "How long does delivery take?"), pick(zh, "包邮吗？", "Is shipping free?")}
	case hasProducts:
		return []string{pick(zh, "有便宜一点的吗？", "Anything cheaper?"),
			pick(zh, "有什么优惠？", "Any discounts?"), pick(zh, "帮我对比一下", "Compare these")}
	default:
		return []string{pick(zh, "有什么推荐？", "What do you recommend?"),
			pick(zh, "送礼推荐", "Gift ideas"), pick(zh, "今日优惠", "Today's deals")}
	}
}

// behavior summarises the events of the last 30 days for the scenario.
func behavior(p memory.Profile, events []memory.Event, s Session, now time.Time) scenario.Behavior {
	b := scenario.Behavior{Returning: p.Visits > 1, Visits: p.Visits, Purchases: p.Purchases,
		CartValue: s.CartValue, SinceLastVisit: s.SinceLastVisit}
	var lastAdd, lastCheckout time.Time
	for _, ev := range events {
		switch ev.Type {
		case "product_view":
			if ev.ProductID != "" && !slices.Contains(b.ProductsViewed, ev.ProductID) {
				b.ProductsViewed = append(b.ProductsViewed, ev.ProductID)
			}
		case "add_to_cart":
			b.CartAdds++
			lastAdd = ev.Time
			if s.CartValue == 0 {
				b.CartValue += ev.Value
			}
		case "remove_from_cart":
			b.CartRemovals++
			if s.CartValue == 0 {
				b.CartValue -= ev.Value
			}
		case "checkout", "purchase":
			lastCheckout = ev.Time
			if s.CartValue == 0 {
				b.CartValue = 0
			}
		}
	}
	if len(b.ProductsViewed) > 10 {
		b.ProductsViewed = b.ProductsViewed[len(b.ProductsViewed)-10:]
	}
	b.AbandonedCart = !lastAdd.IsZero() && lastAdd.After(lastCheckout) && now.Sub(lastAdd) > time.Hour
	b.TopCategories = topCategories(p.CategoryAffinity, 3)
	if b.CartValue < 0 {
		b.CartValue = 0
	}
	return b
}

func topCategories(aff map[string]float64, n int) []string {
	cats := make([]string, 0, len(aff))
	for c, w := range aff {
		if w > 0 {
			cats = append(cats, c)
		}
	}
	slices.SortFunc(cats, func(a, b string) int {
		switch {
		case aff[a] > aff[b]:
			return -1
		case aff[a] < aff[b]:
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(cats) > n {
		cats = cats[:n]
	}
	return cats
}
