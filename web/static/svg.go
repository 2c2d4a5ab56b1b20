package static

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fontStack lists fonts installed on common systems, so the images render
// without downloading a font. The CJK entries cover Chinese titles.
const fontStack = `system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', ` +
	`'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', ` +
	`'Noto Sans SC', 'WenQuanYi Micro Hei', sans-serif`

// svgBuilder accumulates an SVG document in memory. Rendering into a
// buffer first means a caller's writer receives either the whole image or
// nothing.
type svgBuilder struct {
	strings.Builder
}

// printf appends formatted markup. Callers pass only numbers and strings
// they built themselves. Input text goes through text instead.
func (b *svgBuilder) printf(format string, args ...any) {
	fmt.Fprintf(b, format, args...)
}

// text appends a <text> element whose content is s, XML-escaped. attrs is
// trusted markup built by this package.
func (b *svgBuilder) text(x, y float64, attrs, s string) {
	b.printf(`<text x="%s" y="%s" %s>`, num(x), num(y), attrs)
	escape(b, s)
	b.WriteString("</text>\n")
}

// escape writes s with the five XML special characters escaped, so the
// result is safe both as element content and inside a quoted attribute. Runes that
// XML 1.0 does not allow, such as most control characters, become U+FFFD.
func escape(b *svgBuilder, s string) {
	// strings.Builder never returns a write error, so EscapeText cannot fail.
	_ = xml.EscapeText(b, []byte(s))
}

// num formats a coordinate with at most two decimals and no trailing zeros.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// hashHue maps s to a hue in degrees [0, 360). The mapping is stable across
// runs and releases, so an image keeps its colours.
func hashHue(s string) float64 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(s))))
	return float64(h.Sum32() % 360)
}

// hashIndex maps s to an integer in [0, n).
func hashIndex(s string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(s))))
	return int(h.Sum32() % uint32(n))
}

// hsl converts a colour given as hue in degrees, saturation and lightness
// in [0, 1] to #rrggbb.
func hsl(hue, sat, light float64) string {
	hue = math.Mod(hue, 360)
	if hue < 0 {
		hue += 360
	}
	chroma := (1 - math.Abs(2*light-1)) * sat
	x := chroma * (1 - math.Abs(math.Mod(hue/60, 2)-1))
	m := light - chroma/2

	var r, g, b float64
	switch {
	case hue < 60:
		r, g, b = chroma, x, 0
	case hue < 120:
		r, g, b = x, chroma, 0
	case hue < 180:
		r, g, b = 0, chroma, x
	case hue < 240:
		r, g, b = 0, x, chroma
	case hue < 300:
		r, g, b = x, 0, chroma
	default:
		r, g, b = chroma, 0, x
	}
	channel := func(v float64) int { return int(math.Round((v + m) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", channel(r), channel(g), channel(b))
}

// boldScale is how much wider bold text runs than regular text.
const boldScale = 1.08

// runeWidth estimates the advance of r in em for a proportional sans-serif
// font. The figures lean towards wide fonts such as DejaVu Sans, so text
// measured with them fits in narrower fonts too. Wide (CJK and fullwidth)
// runes take a full em.
func runeWidth(r rune) float64 {
	switch {
	case isWide(r):
		return 1.0
	case r == ' ':
		return 0.33
	case strings.ContainsRune("ilI.,:;'!|j", r):
		return 0.34
	case strings.ContainsRune("mwMW@", r):
		return 0.92
	case unicode.IsUpper(r) || unicode.IsDigit(r):
		return 0.72
	default:
		return 0.6
	}
}

// isWide reports whether r is a CJK ideograph, kana, hangul, or a fullwidth
// form, which lines may break before or after.
func isWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303f) || // CJK punctuation
		(r >= 0xff00 && r <= 0xffef) // fullwidth forms
}

// textWidth estimates the width of s in em.
func textWidth(s string) float64 {
	var w float64
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

// wrapText breaks s into at most maxLines lines that each fit maxEm em.
// Latin text breaks at spaces and CJK text between any two wide runes. A
// word longer than a line is cut between runes. When s does not fit, the
// last line ends with an ellipsis.
func wrapText(s string, maxEm float64, maxLines int) []string {
	words := splitWords(strings.Join(strings.Fields(s), " "))
	var lines []string
	var line strings.Builder
	lineEm := 0.0

	flush := func() {
		lines = append(lines, strings.TrimRight(line.String(), " "))
		line.Reset()
		lineEm = 0
	}
	for i := 0; i < len(words); i++ {
		word := words[i]
		wordEm := textWidth(word)
		if word == " " && lineEm == 0 {
			continue
		}
		if lineEm+wordEm <= maxEm {
			line.WriteString(word)
			lineEm += wordEm
			continue
		}
		if lineEm > 0 {
			flush()
			if len(lines) == maxLines {
				return ellipsize(lines, strings.Join(words[i:], ""), maxEm)
			}
			i-- // retry the word on the fresh line
			continue
		}
		// The word alone is wider than a line: cut it between runes.
		head, tail := cutToWidth(word, maxEm)
		line.WriteString(head)
		flush()
		if len(lines) == maxLines {
			return ellipsize(lines, tail+strings.Join(words[i+1:], ""), maxEm)
		}
		words[i] = tail
		i--
	}
	if line.Len() > 0 {
		flush()
	}
	return lines
}

// splitWords splits s into Latin words, single spaces and single wide runes.
func splitWords(s string) []string {
	var words []string
	start := 0
	for i, r := range s {
		if r != ' ' && !isWide(r) {
			continue
		}
		if start < i {
			words = append(words, s[start:i])
		}
		words = append(words, string(r))
		start = i + utf8.RuneLen(r)
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	return words
}

// cutToWidth splits s after the last rune that keeps the head within maxEm.
// The head has at least one rune, so wrapping always advances.
func cutToWidth(s string, maxEm float64) (head, tail string) {
	em := 0.0
	for i, r := range s {
		em += runeWidth(r)
		if em > maxEm && i > 0 {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// ellipsize marks the last line as cut when rest is not empty, trimming it
// so the ellipsis still fits.
func ellipsize(lines []string, rest string, maxEm float64) []string {
	if strings.TrimSpace(rest) == "" {
		return lines
	}
	last := []rune(lines[len(lines)-1])
	for len(last) > 0 && textWidth(string(last))+runeWidth('…') > maxEm {
		last = last[:len(last)-1]
	}
	lines[len(lines)-1] = strings.TrimRight(string(last), " ") + "…"
	return lines
}

// truncate shortens s to fit maxEm em, ending it with an ellipsis when cut.
func truncate(s string, maxEm float64) string {
	lines := wrapText(s, maxEm, 1)
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// currencySymbols maps ISO 4217 codes to the symbol shoppers expect.
var currencySymbols = map[string]string{
	"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£",
	"CNY": "¥", "JPY": "¥", "HKD": "HK$", "TWD": "NT$", "KRW": "₩", "INR": "₹",
}

// formatPrice renders an amount in major units with its currency symbol,
// for example "$129" or "¥168.50". Unknown codes are written before the
// amount ("CHF 40"). A zero price returns "" because the catalog uses zero
// for unknown.
func formatPrice(price float64, currency string) string {
	if price <= 0 || math.IsNaN(price) || math.IsInf(price, 0) {
		return ""
	}
	code := strings.ToUpper(strings.TrimSpace(currency))
	amount := strconv.FormatFloat(price, 'f', 2, 64)
	if price == math.Trunc(price) || code == "JPY" || code == "KRW" {
		amount = strconv.FormatFloat(math.Round(price), 'f', 0, 64)
	}
	if symbol, ok := currencySymbols[code]; ok {
		return symbol + amount
	}
	if code == "" {
		return amount
	}
	return code + " " + amount
}

// polar returns the point at distance r from (cx, cy) in direction deg,
// measured clockwise from the positive x axis as SVG draws it.
func polar(cx, cy, r, deg float64) (x, y float64) {
	rad := deg * math.Pi / 180
	return cx + r*math.Cos(rad), cy + r*math.Sin(rad)
}
