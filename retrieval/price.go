package retrieval

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ErrInvalidPrice is returned by ParsePrice when the text holds no amount or
// an amount it cannot read.
var ErrInvalidPrice = errors.New("invalid price")

// currencySymbols maps symbols and words that may prefix or follow an
// amount to ISO 4217 codes. "¥" means CNY: the catalogs this product serves
// are Chinese more often than Japanese, and "JPY" can be written out.
var currencySymbols = []struct{ sym, code string }{
	{"US$", "USD"}, {"CA$", "CAD"}, {"AU$", "AUD"}, {"HK$", "HKD"}, {"NT$", "TWD"},
	{"RMB", "CNY"}, {"CN¥", "CNY"}, {"JP¥", "JPY"},
	{"Rs.", "INR"}, {"Rs", "INR"}, {"₹", "INR"}, {"$", "USD"}, {"€", "EUR"},
	{"£", "GBP"}, {"¥", "CNY"}, {"￥", "CNY"}, {"元", "CNY"}, {"块", "CNY"},
	{"₩", "KRW"}, {"₽", "RUB"}, {"₺", "TRY"}, {"₫", "VND"}, {"R$", "BRL"},
}

// ParsePrice reads a price such as "₹1,099", "$1,299.00", "1.299,00 €",
// "¥88", "88元" or "15.00 USD" and returns the amount in major units and the
// ISO 4217 currency code, which is empty when the text names none. Thousands
// separators may be "," or "." (or spaces); the decimal separator is
// whichever of them comes last and is followed by one or two digits.
func ParsePrice(s string) (amount float64, currency string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "", fmt.Errorf("parse price %q: %w: empty", s, ErrInvalidPrice)
	}
	rest := s
	for _, cs := range currencySymbols {
		if i := strings.Index(rest, cs.sym); i >= 0 {
			currency = cs.code
			rest = rest[:i] + " " + rest[i+len(cs.sym):]
			break
		}
	}
	rest, code := cutISOCode(rest)
	if code != "" {
		currency = code
	}
	num := strings.TrimSpace(rest)
	num = strings.TrimSuffix(num, "-")
	num = strings.TrimSpace(num)
	if num == "" {
		return 0, currency, fmt.Errorf("parse price %q: %w: no amount", s, ErrInvalidPrice)
	}
	amount, err = parseAmount(num)
	if err != nil {
		return 0, currency, fmt.Errorf("parse price %q: %w", s, err)
	}
	return amount, currency, nil
}

// cutISOCode removes a three-letter upper-case currency code standing alone
// before or after the amount.
func cutISOCode(s string) (string, string) {
	fields := strings.Fields(s)
	for i, f := range fields {
		if len(f) == 3 && isUpperASCII(f) {
			fields = append(fields[:i], fields[i+1:]...)
			return strings.Join(fields, " "), f
		}
	}
	return s, ""
}

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// parseAmount reads a number with optional thousands separators.
func parseAmount(num string) (float64, error) {
	num = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\'' || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, num)
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	for _, r := range num {
		if (r < '0' || r > '9') && r != '.' && r != ',' {
			return 0, fmt.Errorf("%w: unexpected %q", ErrInvalidPrice, r)
		}
	}
	lastDot, lastComma := strings.LastIndex(num, "."), strings.LastIndex(num, ",")
	dec := max(lastDot, lastComma)
	if dec >= 0 {
		digitsAfter := len(num) - dec - 1
		sepCount := strings.Count(num, num[dec:dec+1])
		// "1,299" and "1.299" are thousands; "12,50" and "1.299,00" decimals.
		if digitsAfter == 3 && sepCount >= 1 && (lastDot < 0 || lastComma < 0) {
			dec = -1
		}
	}
	var b strings.Builder
	for i, r := range num {
		switch {
		case i == dec:
			b.WriteByte('.')
		case r == '.' || r == ',':
		default:
			b.WriteRune(r)
		}
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	if err != nil || b.Len() == 0 {
		return 0, fmt.Errorf("%w: %q is not a number", ErrInvalidPrice, num)
	}
	if neg {
		return 0, fmt.Errorf("%w: negative amount", ErrInvalidPrice)
	}
	return v, nil
}
