package bot

import (
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/memory"
)

// ParsePrompt parses a system prompt template. The template receives a
// PromptData.
func ParsePrompt(text string) (*template.Template, error) {
	return template.New("system").Option("missingkey=error").Parse(text)
}

// PromptData is the input of the system prompt template.
type PromptData struct {
	Store            string
	Language         string
	LocalTime        string
	TimeOfDay        string
	Weekend          bool
	Season           string
	Festival         string
	FestivalDaysLeft int
	ScenarioLabel    string
	Reasons          string
	Intent           string
	Emotion          string
	Empathy          bool
	Segment          string
	Returning        bool
	Visits           int
	Page             string
	Summary          string
	Products         []PromptProduct
	Relaxed          bool
	FilterDesc       string
	Offer            *PromptOffer
	Handoff          bool
}

// PromptProduct is a product as the prompt lists it.
type PromptProduct struct {
	Title       string
	Price       string
	WasPrice    string
	InStock     bool
	Description string
}

// PromptOffer is the offer as the prompt states it.
type PromptOffer struct {
	Title, Copy, Code string
}

// negativeEmotions are the emotions the reply acknowledges first.
var negativeEmotions = map[string]bool{"negative": true, "angry": true, "anxious": true}

func (t *turn) promptData() PromptData {
	sc := t.scenario
	personal := t.variant.Personalize != "none"
	d := PromptData{
		Store: t.e.opts.StoreName, Language: t.lang,
		LocalTime: sc.LocalTime.Format("Monday 15:04"), TimeOfDay: sc.TimeOfDay,
		Weekend: sc.Weekend, Season: sc.Season,
		ScenarioLabel: "not used in this experiment variant", Reasons: "-",
		Intent: sc.Intent.Label, Emotion: sc.Emotion.Label,
		Empathy: negativeEmotions[sc.Emotion.Label],
		Relaxed: t.result.Relaxed, FilterDesc: describeFilter(t.result.Filter, t.lang, t.e.catalogCurrency()),
		Handoff: sc.Intent.Label == "human",
	}
	if personal {
		d.ScenarioLabel = sc.Label
		d.Reasons = strings.Join(sc.Reasons, "; ")
		if sc.Festival != nil {
			d.Festival, d.FestivalDaysLeft = sc.Festival.Name, sc.Festival.DaysLeft
		}
		d.Returning = sc.Behavior.Returning
		d.Visits = sc.Behavior.Visits
		if sc.PageKind != "" {
			d.Page = sc.PageKind + " page"
			if p, ok := t.e.opts.Catalog.Get(sc.Product); ok {
				d.Page += ": " + p.TitleIn(t.lang)
			}
		}
	}
	if t.variant.Personalize == "full" {
		d.Segment = t.profile.Segment
		// The summary quotes earlier shopper messages unmasked.
		d.Summary = t.e.opts.Mask(t.profile.Summary)
	}
	for _, h := range t.result.Hits {
		p := h.Product
		pp := PromptProduct{Title: p.TitleIn(t.lang), Price: formatPrice(p.Price, p.Currency),
			InStock: p.InStock, Description: clip(descriptionIn(p, t.lang), 160)}
		if p.CompareAtPrice > p.Price {
			pp.WasPrice = formatPrice(p.CompareAtPrice, p.Currency)
		}
		d.Products = append(d.Products, pp)
	}
	if o := t.decision.Offer; o != nil {
		title, copy := o.Text(t.lang)
		d.Offer = &PromptOffer{Title: title, Copy: copy, Code: o.Code}
	}
	return d
}

// request builds the model request: the system prompt, recent history and
// the new message, with personal data masked.
func (t *turn) request() llm.Request {
	var sys strings.Builder
	if err := t.e.opts.Prompt.Execute(&sys, t.promptData()); err != nil {
		// The template is parsed and checked at start; a failure here is a
		// bug, and the model still gets the rest of the request.
		t.e.log.Error("prompt template failed", "turn_id", t.id, "error", err)
	}
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: sys.String()}}
	for _, m := range t.recent {
		role := llm.RoleAssistant
		if m.Role == memory.RoleUser {
			role = llm.RoleUser
		}
		msgs = append(msgs, llm.Message{Role: role, Content: t.e.opts.Mask(m.Text)})
	}
	msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: t.e.opts.Mask(t.in.Text)})
	return llm.Request{Messages: msgs, MaxTokens: t.e.opts.MaxTokens, Temperature: t.e.opts.Temperature}
}

// facts gives the offline responder the same inputs the prompt carries.
func (t *turn) facts() llm.Facts {
	sc := t.scenario
	f := llm.Facts{
		Language: t.lang, Text: t.e.opts.Mask(t.in.Text), TimeOfDay: sc.TimeOfDay,
		Emotion: sc.Emotion.Label, Intent: sc.Intent.Label, Scenario: sc.Label,
		Segment: t.profile.Segment, Relaxed: t.result.Relaxed,
		FilterDesc: describeFilter(t.result.Filter, t.lang, t.e.catalogCurrency()), Returning: sc.Behavior.Returning,
	}
	if t.variant.Personalize == "none" {
		f.Scenario, f.Segment = "", ""
	} else if sc.Festival != nil {
		f.Festival, f.FestivalDaysLeft = sc.Festival.Name, sc.Festival.DaysLeft
		if t.lang == "zh" {
			f.Festival = sc.Festival.NameZH
		}
	}
	for _, h := range t.result.Hits {
		p := h.Product
		f.Products = append(f.Products, llm.ProductFact{ID: p.ID, Title: p.TitleIn(t.lang),
			Price: p.Price, Currency: p.Currency, URL: p.URL, InStock: p.InStock,
			CompareAtPrice: p.CompareAtPrice})
	}
	if o := t.decision.Offer; o != nil {
		title, copy := o.Text(t.lang)
		f.Offer = &llm.OfferFact{Title: title, Copy: copy, Code: o.Code}
	}
	return f
}

// summarize keeps a bounded note of user messages that have left the
// prompt's history window, so long conversations keep their subject
// without the prompt growing.
func summarize(summary string, recent []memory.Message, window int) string {
	if len(recent) < window {
		return summary
	}
	oldest := recent[0]
	if oldest.Role != memory.RoleUser {
		return summary
	}
	entries := []string{}
	if summary != "" {
		entries = strings.Split(summary, " | ")
	}
	entries = append(entries, clip(oneLine(oldest.Text), 80))
	if len(entries) > 6 {
		entries = entries[len(entries)-6:]
	}
	return strings.Join(entries, " | ")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s to at most n runes, ending with an ellipsis when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var currencySymbols = map[string]string{
	"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹",
}

// formatPrice writes a price with its currency symbol, such as $19.99 or
// ¥88; an unknown currency is written as a suffix.
func formatPrice(amount float64, currency string) string {
	s := fmt.Sprintf("%.2f", amount)
	s = strings.TrimSuffix(s, ".00")
	if sym, ok := currencySymbols[currency]; ok {
		return sym + s
	}
	if currency == "" {
		return s
	}
	return s + " " + currency
}
