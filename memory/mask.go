package memory

import (
	"regexp"
	"strings"
	"unicode"
)

// Placeholders that replace personal data in masked text.
const (
	MaskEmail = "[email]"
	MaskPhone = "[phone]"
	MaskCard  = "[card]"
	MaskID    = "[id]"
)

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// MaskPII replaces email addresses, phone numbers (Chinese mobile and
// landline, and international numbers written with a leading + or with
// separators), payment card numbers that pass the Luhn check and Chinese
// resident id numbers with a valid check digit. Full-width digits count as
// digits. Amounts next to a currency sign or unit (¥13800138000, 1380元)
// are prices, not phone numbers, and stay, and so do numbers glued to a
// Latin letter on either side (SO13800138000, 13800138000CN), which are
// order, SKU or tracking codes.
func MaskPII(text string) string {
	text = emailRE.ReplaceAllString(text, MaskEmail)
	runes := []rune(text)
	var b strings.Builder
	for i := 0; i < len(runes); {
		start := i
		if !startsNumber(runes, i) {
			b.WriteRune(runes[i])
			i++
			continue
		}
		end, digits, seps := scanNumber(runes, i)
		if mask := classifyNumber(runes, start, end, digits, seps); mask != "" && !gluedAfter(runes, end) {
			b.WriteString(mask)
		} else {
			b.WriteString(string(runes[start:end]))
		}
		i = end
	}
	return b.String()
}

func digitValue(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r - '0'), true
	case r >= '０' && r <= '９':
		return byte(r - '０'), true
	}
	return 0, false
}

// startsNumber reports whether a number starts at i: a digit, or a + or an
// opening bracket before a digit, not glued to a preceding letter or digit
// (SKU12345, v2).
func startsNumber(runes []rune, i int) bool {
	r := runes[i]
	if r == '+' || r == '＋' || r == '(' || r == '（' {
		if i+1 >= len(runes) {
			return false
		}
		r = runes[i+1]
	}
	if _, ok := digitValue(r); !ok {
		return false
	}
	if i > 0 {
		p := runes[i-1]
		if _, ok := digitValue(p); ok || unicode.IsLetter(p) && p < 0x2E80 {
			return false
		}
	}
	return true
}

// scanNumber reads digits with separators between them, plus a trailing X
// for id numbers, and returns the end, the digits (X included) and the
// number of separators. A separator is a space, a hyphen or a bracket, or
// two of them when one is a bracket, as in "+1 (415) 555-2671".
func scanNumber(runes []rune, i int) (end int, digits []byte, seps int) {
	if r := runes[i]; r == '+' || r == '＋' || r == '(' || r == '（' {
		i++
	}
	for i < len(runes) {
		if d, ok := digitValue(runes[i]); ok {
			digits = append(digits, '0'+d)
			i++
			continue
		}
		if (runes[i] == 'X' || runes[i] == 'x') && len(digits) == 17 {
			digits = append(digits, 'X')
			i++
			break
		}
		if n := separatorLen(runes, i); n > 0 {
			seps++
			i += n
			continue
		}
		break
	}
	return i, digits, seps
}

// separatorLen returns the length of the separator at i when a digit
// follows it, or 0.
func separatorLen(runes []rune, i int) int {
	followedByDigit := func(j int) bool {
		if j >= len(runes) {
			return false
		}
		_, ok := digitValue(runes[j])
		return ok
	}
	if !isSeparator(runes[i]) && !isBracket(runes[i]) {
		return 0
	}
	if followedByDigit(i + 1) {
		return 1
	}
	if i+1 < len(runes) && (isBracket(runes[i]) || isBracket(runes[i+1])) &&
		(isSeparator(runes[i+1]) || isBracket(runes[i+1])) && followedByDigit(i+2) {
		return 2
	}
	return 0
}

func isSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '‐' || r == '－'
}

func isBracket(r rune) bool {
	return r == '(' || r == ')' || r == '（' || r == '）'
}

// gluedAfter reports whether a Latin letter follows the number at end, as in
// tracking codes such as 13800138000CN; such numbers stay.
func gluedAfter(runes []rune, end int) bool {
	if end >= len(runes) {
		return false
	}
	r := runes[end]
	return r < 0x2E80 && unicode.IsLetter(r)
}

var currencyBefore = "$¥￥€£₹"
var unitsAfter = []string{"元", "块", "円", "美元", "rmb", "RMB", "usd", "USD", "%"}

func classifyNumber(runes []rune, start, end int, digits []byte, seps int) string {
	if isPrice(runes, start, end) {
		return ""
	}
	s := string(digits)
	n := len(s)
	plus := runes[start] == '+' || runes[start] == '＋'
	switch {
	case n == 18 && validResidentID(s):
		return MaskID
	case n >= 13 && n <= 19 && !strings.Contains(s, "X") && luhn(s):
		return MaskCard
	case isChineseMobile(s):
		return MaskPhone
	case plus && n >= 8 && n <= 15:
		return MaskPhone
	case isLandline(s, seps):
		return MaskPhone
	case seps >= 2 && n >= 10 && n <= 12:
		return MaskPhone
	}
	return ""
}

// isPrice reports whether the number is written as an amount: after a
// currency sign, before a unit, or followed by a decimal part.
func isPrice(runes []rune, start, end int) bool {
	for j := start - 1; j >= 0 && j >= start-2; j-- {
		if strings.ContainsRune(currencyBefore, runes[j]) {
			return true
		}
		if runes[j] != ' ' {
			break
		}
	}
	rest := strings.TrimLeft(string(runes[end:min(len(runes), end+4)]), " ")
	for _, u := range unitsAfter {
		if strings.HasPrefix(rest, u) {
			return true
		}
	}
	if end+1 < len(runes) && (runes[end] == '.' || runes[end] == ',') {
		if _, ok := digitValue(runes[end+1]); ok {
			return true
		}
	}
	return false
}

func isChineseMobile(s string) bool {
	s = strings.TrimPrefix(s, "0086")
	if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9'
}

// isLandline matches Chinese landlines written with an area code and a
// separator, such as 010-12345678 or 0571 8888 6666.
func isLandline(s string, seps int) bool {
	return seps >= 1 && s[0] == '0' && len(s) >= 10 && len(s) <= 12
}

func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// validResidentID checks the ISO 7064 MOD 11-2 check digit of an 18-digit
// Chinese resident id number and that its birth date is plausible.
func validResidentID(s string) bool {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * weights[i]
	}
	check := "10X98765432"[sum%11]
	if s[17] != check {
		return false
	}
	year := atoi(s[6:10])
	month := atoi(s[10:12])
	day := atoi(s[12:14])
	return year >= 1900 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
