package static

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Banner geometry in SVG user units.
const (
	bannerW     = 600
	bannerH     = 200
	bannerPad   = 28
	bannerTextW = 370 // width of the text column left of the badge
	badgeX      = 490 // centre of the round badge with the headline
	badgeY      = 100
	badgeR      = 70
)

// BannerInput is the data an offer banner is drawn from.
type BannerInput struct {
	OfferID  string
	Title    string
	Copy     string
	Code     string
	Kind     string  // percentage, fixed_amount, free_shipping or gift
	Value    float64 // percent for percentage, currency units for fixed_amount
	Lang     string  // "zh" draws Chinese labels, anything else English
	Scenario string  // scenario label such as gift_shopping; picks the colours
	Festival string  // festival id such as singles_day, or a display name; empty for none
}

// RenderBanner writes a 600x200 SVG banner for an offer: title, copy and
// code on the left, a badge with the discount on the right, a motif for
// the offer kind, colours derived from the scenario and a ribbon when a
// festival is set. It returns only the error of writing to w.
func RenderBanner(w io.Writer, in BannerInput) error {
	zh := in.Lang == "zh"
	hueKey := in.Scenario
	if hueKey == "" {
		hueKey = in.Kind + in.OfferID
	}
	hue := hashHue(hueKey)
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = in.OfferID
	}

	var b svgBuilder
	b.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="`,
		bannerW, bannerH, bannerW, bannerH)
	escape(&b, title)
	b.WriteString("\">\n<title>")
	escape(&b, title)
	b.WriteString("</title>\n")
	b.printf(`<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">`+
		`<stop offset="0" stop-color="%s"/><stop offset="1" stop-color="%s"/></linearGradient>`+
		`<clipPath id="card"><rect width="%d" height="%d" rx="16"/></clipPath></defs>`+"\n",
		hsl(hue, 0.55, 0.26), hsl(hue+35, 0.6, 0.34), bannerW, bannerH)
	b.WriteString(`<g clip-path="url(#card)">` + "\n")
	b.printf(`<rect width="%d" height="%d" fill="url(#bg)"/>`+"\n", bannerW, bannerH)

	b.printf(`<g fill="#ffffff" stroke="#ffffff" opacity="0.14">` + "\n")
	kindMotif(in.Kind)(&b, 380, 0, 220, bannerH)
	b.WriteString("</g>\n")

	textTop := float64(bannerPad)
	if in.Festival != "" {
		writeFestivalAccent(&b, in.Festival, zh)
		textTop += 26
	}
	writeBannerText(&b, title, in.Copy, textTop)
	writeCode(&b, in.Code, zh)
	writeBadge(&b, badgeLines(in.Kind, in.Value, zh), hue)
	b.WriteString("</g>\n</svg>\n")

	_, err := io.WriteString(w, b.String())
	return err
}

// writeBannerText draws the title (up to two lines) and the copy (up to two
// lines) in the left column, starting at top.
func writeBannerText(b *svgBuilder, title, copyText string, top float64) {
	const titlePx, copyPx = 26, 15
	titleAttrs := fmt.Sprintf(`font-family="%s" font-size="%d" font-weight="800" fill="#ffffff"`,
		fontStack, titlePx)
	y := top + titlePx
	titleLines := wrapText(title, bannerTextW/titlePx/boldScale, 2)
	for _, line := range titleLines {
		b.text(bannerPad, y, titleAttrs, line)
		y += titlePx * 1.2
	}

	copyAttrs := fmt.Sprintf(`font-family="%s" font-size="%d" fill="#ffffff" fill-opacity="0.92"`,
		fontStack, copyPx)
	copyLines := 2
	if len(titleLines) > 1 {
		copyLines = 1
	}
	y += 2
	for _, line := range wrapText(copyText, bannerTextW/copyPx, copyLines) {
		b.text(bannerPad, y, copyAttrs, line)
		y += copyPx * 1.35
	}
}

// writeCode draws the discount code in a dashed box at the bottom left.
func writeCode(b *svgBuilder, code string, zh bool) {
	code = strings.TrimSpace(code)
	if code == "" {
		return
	}
	label := "CODE "
	if zh {
		label = "优惠码 "
	}
	const fontPx = 16
	const letterSpacing = 1
	text := truncate(label+code, (bannerTextW-24)/(fontPx*boldScale+letterSpacing))
	width := textWidth(text)*fontPx*boldScale + letterSpacing*float64(utf8.RuneCountInString(text)) + 24
	top := float64(bannerH - bannerPad - 34)
	b.printf(`<rect x="%d" y="%s" width="%s" height="34" rx="8" fill="#ffffff" fill-opacity="0.12" `+
		`stroke="#ffffff" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n", bannerPad, num(top), num(width))
	b.text(bannerPad+12, top+23, fmt.Sprintf(
		`font-family="%s" font-size="%d" font-weight="700" fill="#ffffff" letter-spacing="%d"`,
		fontStack, fontPx, letterSpacing), text)
}

// writeBadge draws the headline lines centred in a white disc.
func writeBadge(b *svgBuilder, lines []string, hue float64) {
	b.printf(`<circle cx="%d" cy="%d" r="%d" fill="#ffffff"/>`+"\n", badgeX, badgeY, badgeR)
	b.printf(`<circle cx="%d" cy="%d" r="%d" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="3 5"/>`+"\n",
		badgeX, badgeY, badgeR-8, hsl(hue, 0.55, 0.3))

	widest := 0.0
	for _, line := range lines {
		widest = math.Max(widest, textWidth(line))
	}
	fontPx := math.Min(34, (2*badgeR-34)/math.Max(widest*boldScale, 1))
	lineH := fontPx * 1.1
	y := badgeY - lineH*float64(len(lines)-1)/2 + fontPx*0.36
	attrs := fmt.Sprintf(`text-anchor="middle" font-family="%s" font-size="%s" font-weight="800" fill="%s"`,
		fontStack, num(fontPx), hsl(hue, 0.6, 0.24))
	for _, line := range lines {
		b.text(badgeX, y, attrs, line)
		y += lineH
	}
}

// badgeLines returns the headline for an offer kind and value, such as
// "15% OFF" or, in Chinese, "8.5折" (a price multiplier in tenths, as
// Chinese shops write discounts).
func badgeLines(kind string, value float64, zh bool) []string {
	switch kind {
	case "percentage":
		if value <= 0 || value >= 100 {
			break
		}
		if zh {
			return []string{trimFloat((100-value)/10, 1) + "折"}
		}
		return []string{trimFloat(value, 1) + "%", "OFF"}
	case "fixed_amount":
		if value <= 0 {
			break
		}
		if zh {
			return []string{"立减", trimFloat(value, 2)}
		}
		return []string{"SAVE", trimFloat(value, 2)}
	case "free_shipping":
		if zh {
			return []string{"包邮"}
		}
		return []string{"FREE", "SHIPPING"}
	case "gift":
		if zh {
			return []string{"好礼", "相送"}
		}
		return []string{"FREE", "GIFT"}
	}
	if zh {
		return []string{"特惠"}
	}
	return []string{"SPECIAL", "OFFER"}
}

// trimFloat formats v with at most digits decimals and no trailing zeros.
func trimFloat(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// festivalStyle is the label and ribbon colours of a shopping festival.
type festivalStyle struct {
	en, zh    string
	fill, ink string // ribbon background and text, chosen for AA contrast
}

// festivalStyles maps normalised festival ids to their style.
var festivalStyles = map[string]festivalStyle{
	"singles_day":     {"Singles' Day 11.11", "双十一", "#ffd23f", "#7a0010"},
	"double_11":       {"Singles' Day 11.11", "双十一", "#ffd23f", "#7a0010"},
	"double_12":       {"Double 12 Sale 12.12", "双十二", "#ffd23f", "#7a0010"},
	"618":             {"618 Shopping Festival", "618购物节", "#ffd23f", "#7a0010"},
	"black_friday":    {"Black Friday", "黑色星期五", "#111111", "#ffd23f"},
	"cyber_monday":    {"Cyber Monday", "网络星期一", "#00d4f0", "#001a33"},
	"christmas":       {"Christmas", "圣诞节", "#1f7a3a", "#ffffff"},
	"spring_festival": {"Spring Festival", "春节", "#d4001a", "#ffe27a"},
	"lunar_new_year":  {"Lunar New Year", "春节", "#d4001a", "#ffe27a"},
	"new_year":        {"New Year", "元旦", "#ffd23f", "#222222"},
	"valentines_day":  {"Valentine's Day", "情人节", "#ff9ab8", "#4a0018"},
	"qixi":            {"Qixi Festival", "七夕", "#ff9ab8", "#4a0018"},
	"mothers_day":     {"Mother's Day", "母亲节", "#ffc2d6", "#5a1030"},
	"fathers_day":     {"Father's Day", "父亲节", "#9cc8ff", "#0b2a55"},
	"mid_autumn":      {"Mid-Autumn Festival", "中秋节", "#f5b942", "#3b2400"},
	"halloween":       {"Halloween", "万圣节", "#ff7a00", "#1a0a00"},
}

// lookupFestival returns the style for a festival id. An unknown festival
// is shown on a gold ribbon, as given or, when it looks like an id such as
// store_birthday, with underscores as spaces and capitalised words.
func lookupFestival(festival string) festivalStyle {
	key := strings.ToLower(strings.TrimSpace(festival))
	key = strings.NewReplacer(" ", "_", "-", "_", "'", "", "’", "").Replace(key)
	if style, ok := festivalStyles[key]; ok {
		return style
	}
	label := strings.TrimSpace(festival)
	if label == strings.ToLower(label) && strings.Contains(label, "_") {
		words := strings.Fields(strings.ReplaceAll(label, "_", " "))
		for i, w := range words {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
		label = strings.Join(words, " ")
	}
	return festivalStyle{en: label, zh: label, fill: "#ffd23f", ink: "#3b2400"}
}

// writeFestivalAccent draws a ribbon with the festival name at the top left
// and sparkles around the badge in the festival colour.
func writeFestivalAccent(b *svgBuilder, festival string, zh bool) {
	style := lookupFestival(festival)
	label := style.en
	if zh {
		label = style.zh
	}
	const fontPx = 13
	label = truncate(label, (bannerTextW-20)/fontPx/boldScale)
	width := textWidth(label)*fontPx*boldScale + 24

	b.printf(`<rect x="0" y="0" width="%d" height="6" fill="%s"/>`+"\n", bannerW, style.fill)
	b.printf(`<rect x="%d" y="14" width="%s" height="24" rx="12" fill="%s"/>`+"\n",
		bannerPad, num(width), style.fill)
	b.text(bannerPad+12, 30.5, fmt.Sprintf(
		`font-family="%s" font-size="%d" font-weight="700" fill="%s" letter-spacing="0.5"`,
		fontStack, fontPx, style.ink), label)

	sparkles := [][3]float64{{410, 40, 9}, {575, 160, 7}, {565, 38, 5}, {420, 168, 5}}
	for _, sp := range sparkles {
		writeSparkle(b, sp[0], sp[1], sp[2], style.fill)
	}
}

// writeSparkle draws a four-pointed star of radius r centred at (cx, cy).
func writeSparkle(b *svgBuilder, cx, cy, r float64, fill string) {
	in := r * 0.28
	b.printf(`<path d="M%s %s L%s %s L%s %s L%s %s L%s %s L%s %s L%s %s L%s %s z" fill="%s"/>`+"\n",
		num(cx), num(cy-r), num(cx+in), num(cy-in), num(cx+r), num(cy), num(cx+in), num(cy+in),
		num(cx), num(cy+r), num(cx-in), num(cy+in), num(cx-r), num(cy), num(cx-in), num(cy-in), fill)
}

// kindMotif returns the decorative pattern for an offer kind.
func kindMotif(kind string) motifFunc {
	switch kind {
	case "percentage":
		return drawRings
	case "fixed_amount":
		return drawCoins
	case "free_shipping":
		return drawTruck
	case "gift":
		return drawGiftBox
	}
	return drawSparkles
}

func drawRings(b *svgBuilder, x, y, w, h float64) {
	for i := range 4 {
		b.printf(`<circle cx="%s" cy="%s" r="%s" fill="none" stroke-width="10"/>`+"\n",
			num(x+w*0.5), num(y+h*0.5), num(40+float64(i)*28))
	}
}

func drawCoins(b *svgBuilder, x, y, w, h float64) {
	for stack := range 3 {
		for i := range 4 + stack*2 {
			b.printf(`<ellipse cx="%s" cy="%s" rx="26" ry="9" stroke="none"/>`+"\n",
				num(x+w*0.12+float64(stack)*w*0.38), num(y+h*0.9-float64(i)*13))
		}
	}
}

func drawTruck(b *svgBuilder, x, y, w, h float64) {
	left, base := x+w*0.06, y+h*0.78
	b.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="6" stroke="none"/>`+"\n",
		num(left), num(base-h*0.38), num(w*0.5), num(h*0.34))
	b.printf(`<path d="M%s %s h%s l%s %s v%s h%s z" stroke="none"/>`+"\n",
		num(left+w*0.53), num(base-h*0.26), num(w*0.16), num(w*0.12), num(h*0.12), num(h*0.18), num(-w*0.28))
	for _, cx := range []float64{left + w*0.12, left + w*0.62} {
		b.printf(`<circle cx="%s" cy="%s" r="%s" stroke="none"/>`+"\n", num(cx), num(base+6), num(h*0.07))
	}
	for i := range 3 {
		b.printf(`<rect x="%s" y="%s" width="%s" height="5" rx="2.5" stroke="none"/>`+"\n",
			num(x), num(base-h*0.3+float64(i)*h*0.1), num(w*0.04))
	}
}

func drawGiftBox(b *svgBuilder, x, y, w, h float64) {
	left, top, size := x+w*0.2, y+h*0.3, w*0.6
	b.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="6" stroke="none"/>`+"\n",
		num(left), num(top+size*0.2), num(size), num(size*0.8))
	b.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="4" stroke="none"/>`+"\n",
		num(left-8), num(top), num(size+16), num(size*0.22))
	b.printf(`<path d="M%s %s c-30 -40 -60 0 0 0 c30 -40 60 0 0 0" fill="none" stroke-width="8"/>`+"\n",
		num(left+size/2), num(top))
}

func drawSparkles(b *svgBuilder, x, y, w, h float64) {
	stars := [][3]float64{{0.2, 0.25, 18}, {0.75, 0.2, 12}, {0.5, 0.7, 24}, {0.15, 0.8, 10}, {0.85, 0.75, 14}}
	for _, st := range stars {
		writeSparkle(b, x+w*st[0], y+h*st[1], st[2], "#ffffff")
	}
}
