package bot

import (
	"regexp"
	"strings"
	"sync"

	"github.com/concierge-chat/concierge/retrieval"
)

// currencyWords finds the currency a shopper names with a price, in
// English and Chinese. The first match wins.
var currencyWords = []struct {
	re   *regexp.Regexp
	code string
}{
	{regexp.MustCompile(`(?i)[¥￥]|元|块钱|块|人民币|\brmb\b|\byuan\b|\bcny\b`), "CNY"},
	{regexp.MustCompile(`(?i)€|\beuros?\b|\beur\b`), "EUR"},
	{regexp.MustCompile(`(?i)£|\bpounds?\b|\bgbp\b`), "GBP"},
	{regexp.MustCompile(`(?i)₹|\brupees?\b|\binr\b`), "INR"},
	{regexp.MustCompile(`(?i)\$|\bdollars?\b|\bbucks\b|\busd\b|美元|美金`), "USD"},
}

// statedCurrency returns the ISO 4217 code of the currency named in text,
// or "" when it names none.
func statedCurrency(text string) string {
	for _, w := range currencyWords {
		if w.re.MatchString(text) {
			return w.code
		}
	}
	return ""
}

// priceFilter converts a price bound the shopper stated in another
// currency ("200元以内" in a dollar store) into the catalog's currency,
// using Options.CurrencyRates. It returns the zero filter when the text
// states no bound, no currency, the catalog's own currency, or a currency
// without a rate; Search then reads the bound from the text as written.
func (e *Engine) priceFilter(text string) retrieval.Filter {
	// Most messages name no other currency, so the cheap checks come before
	// parsing the bound, which Search does again from the text anyway.
	from := statedCurrency(text)
	to := e.catalogCurrency()
	fromRate, okFrom := e.opts.CurrencyRates[from]
	toRate, okTo := e.opts.CurrencyRates[to]
	if from == "" || to == "" || from == to || !okFrom || !okTo || fromRate <= 0 || toRate <= 0 {
		return retrieval.Filter{}
	}
	parsed := retrieval.ParseFilter(text)
	if parsed.MinPrice == 0 && parsed.MaxPrice == 0 {
		return retrieval.Filter{}
	}
	scale := toRate / fromRate
	return retrieval.Filter{MinPrice: roundCents(parsed.MinPrice * scale),
		MaxPrice: roundCents(parsed.MaxPrice * scale)}
}

func roundCents(v float64) float64 {
	return float64(int64(v*100+0.5)) / 100
}

// catalogCurrency returns the currency most products are priced in, read
// once per engine; an empty catalog is retried on the next call.
// NOTE: a catalog upload that changes the currency takes effect only after
// a restart.
func (e *Engine) catalogCurrency() string {
	e.currencyMu.Lock()
	defer e.currencyMu.Unlock()
	if e.currency != "" {
		return e.currency
	}
	counts := map[string]int{}
	for _, p := range e.opts.Catalog.Products() {
		counts[strings.ToUpper(p.Currency)]++
	}
	best := 0
	for code, n := range counts {
		if code != "" && (n > best || n == best && code < e.currency) {
			e.currency, best = code, n
		}
	}
	return e.currency
}

// currencyCache is embedded in Engine.
type currencyCache struct {
	currencyMu sync.Mutex
	currency   string // guarded by currencyMu
}
