package llm

import (
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// maxNamedProducts is how many products a composed reply names.
const maxNamedProducts = 3

// festivalWindowDays is the maximum number of days before a festival at
// which the reply mentions it.
const festivalWindowDays = 14

// Compose writes the offline reply for f. The result depends only on f:
// the same facts always give the same text, and phrasing alternatives are
// picked by a hash of the user's message.
func Compose(f Facts) string {
	p := phrasesFor(f.Language)
	pick := variant(f.Text)

	var parts []string
	if s := p.empathy(f.Emotion); s != "" {
		parts = append(parts, s)
	}
	switch f.Intent {
	case "greeting":
		parts = append(parts, p.greeting(f))
		if s := p.festival(f); s != "" {
			parts = append(parts, s)
		}
		if len(f.Products) == 0 {
			parts = append(parts, p.askNeed[pick(len(p.askNeed))])
		}
	case "order_status", "shipping", "return_refund", "complaint", "human", "oos", "chitchat":
		parts = append(parts, p.service(f.Intent, f.Emotion))
	default:
		if s := p.festival(f); s != "" && (f.Intent == "gift" || f.Intent == "product_search") {
			parts = append(parts, s)
		}
		if len(f.Products) == 0 {
			parts = append(parts, p.noMatch(f))
		}
	}

	if len(f.Products) > 0 && f.Intent != "human" && f.Intent != "complaint" {
		parts = append(parts, p.productList(f, pick))
	}
	if f.Offer != nil && f.Offer.Title != "" && f.Intent != "complaint" && f.Intent != "human" {
		parts = append(parts, p.offer(*f.Offer))
	}
	return joinParts(parts, p.sentenceSep)
}

// joinParts joins sentences with sep, except parts that start with a
// newline: the product list and the offer, which start their own line.
func joinParts(parts []string, sep string) string {
	var b strings.Builder
	for i, part := range parts {
		if i > 0 && !strings.HasPrefix(part, "\n") {
			b.WriteString(sep)
		}
		b.WriteString(part)
	}
	return strings.TrimLeft(b.String(), "\n")
}

// endSentence appends a full stop to s unless it already ends with one of
// the usual end marks.
func endSentence(s string, zh bool) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") || strings.HasSuffix(s, "。") ||
		strings.HasSuffix(s, "！") || strings.HasSuffix(s, "？") {
		return s
	}
	if zh {
		return s + "。"
	}
	return s + "."
}

// variant returns a deterministic chooser over n alternatives seeded by
// text, so different messages get different phrasings.
func variant(text string) func(n int) int {
	h := fnv.New32a()
	h.Write([]byte(text))
	sum := h.Sum32()
	return func(n int) int {
		if n <= 1 {
			return 0
		}
		return int(sum % uint32(n))
	}
}

// FormatPrice formats amount with the symbol of an ISO 4217 currency code:
// "$19.99", "¥199", "€5.50". Yuan and yen drop a zero fraction. A code
// without a known symbol is written after the amount ("12.00 CHF"), and an
// empty code gives the bare amount.
func FormatPrice(amount float64, currency string) string {
	code := strings.ToUpper(strings.TrimSpace(currency))
	switch code {
	case "USD":
		return "$" + decimals(amount, 2)
	case "CNY", "RMB":
		return "¥" + trimmedDecimals(amount)
	case "JPY":
		return "¥" + decimals(amount, 0)
	case "EUR":
		return "€" + decimals(amount, 2)
	case "GBP":
		return "£" + decimals(amount, 2)
	case "HKD":
		return "HK$" + decimals(amount, 2)
	case "":
		return decimals(amount, 2)
	default:
		return decimals(amount, 2) + " " + code
	}
}

func decimals(v float64, places int) string {
	return strconv.FormatFloat(v, 'f', places, 64)
}

// trimmedDecimals writes whole amounts without a fraction and others with
// two decimals.
func trimmedDecimals(v float64) string {
	if v == math.Trunc(v) {
		return decimals(v, 0)
	}
	return decimals(v, 2)
}

// namedProducts returns the products the reply names.
func namedProducts(ps []ProductFact) []ProductFact {
	if len(ps) > maxNamedProducts {
		return ps[:maxNamedProducts]
	}
	return ps
}

// cheaperOfTwo orders the first two products by price. It reports false
// when there are fewer than two, their currencies differ or the prices are
// equal.
func cheaperOfTwo(ps []ProductFact) (lo, hi ProductFact, ok bool) {
	if len(ps) < 2 || !strings.EqualFold(ps[0].Currency, ps[1].Currency) {
		return ProductFact{}, ProductFact{}, false
	}
	lo, hi = ps[0], ps[1]
	if hi.Price < lo.Price {
		lo, hi = hi, lo
	}
	return lo, hi, lo.Price < hi.Price
}
