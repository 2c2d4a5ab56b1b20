package static

import (
	"fmt"
	"io"
	"strings"
)

// Product tile geometry in SVG user units.
const (
	tileSize    = 400
	tileArtH    = 250 // height of the coloured motif area above the text
	tilePad     = 24
	tileTitlePx = 22
)

// ProductImageInput is the data a product tile is drawn from.
type ProductImageInput struct {
	ID       string
	Title    string
	Category string // path such as "Apparel > Shoes", whose top level picks colour and motif
	Price    float64
	Currency string // ISO 4217 code
}

// RenderProductImage writes a 400x400 SVG tile for a product: a motif in
// colours derived from the category, the wrapped title, the category and
// the price. Two products in one category share colours and motif. It
// returns only the error of writing to w.
func RenderProductImage(w io.Writer, in ProductImageInput) error {
	top := topCategory(in.Category)
	hueKey := top
	if hueKey == "" {
		hueKey = in.ID
	}
	hue := hashHue(hueKey)
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = in.ID
	}

	var b svgBuilder
	b.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="`,
		tileSize, tileSize, tileSize, tileSize)
	escape(&b, title) // escape also covers the quote that ends the attribute
	b.WriteString("\">\n")
	b.printf("<title>")
	escape(&b, title)
	b.printf("</title>\n")
	b.printf(`<defs><linearGradient id="art" x1="0" y1="0" x2="1" y2="1">`+
		`<stop offset="0" stop-color="%s"/><stop offset="1" stop-color="%s"/></linearGradient>`+
		`<clipPath id="art-area"><rect width="%d" height="%d"/></clipPath></defs>`+"\n",
		hsl(hue, 0.55, 0.88), hsl(hue+28, 0.5, 0.76), tileSize, tileArtH)
	b.printf(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", tileSize, tileSize)
	b.printf(`<rect width="%d" height="%d" fill="url(#art)"/>`+"\n", tileSize, tileArtH)

	motif := categoryMotif(top, in.ID)
	b.printf(`<g clip-path="url(#art-area)" fill="%s" stroke="%s" opacity="0.55">`+"\n",
		hsl(hue, 0.45, 0.5), hsl(hue, 0.45, 0.5))
	motif(&b, 0, 0, tileSize, tileArtH)
	b.WriteString("</g>\n")

	writePriceBadge(&b, in.Price, in.Currency, hue)
	writeTileText(&b, title, in.Category)
	b.WriteString("</svg>\n")

	_, err := io.WriteString(w, b.String())
	return err
}

// writePriceBadge draws the price in a dark pill at the top right of the
// motif area. It draws nothing for an unknown (zero) price.
func writePriceBadge(b *svgBuilder, price float64, currency string, hue float64) {
	label := formatPrice(price, currency)
	if label == "" {
		return
	}
	const fontPx = 20
	width := textWidth(label)*boldScale*fontPx + 28
	x := tileSize - tilePad - width
	b.printf(`<rect x="%s" y="%d" width="%s" height="40" rx="20" fill="%s"/>`+"\n",
		num(x), tilePad, num(width), hsl(hue, 0.55, 0.24))
	b.text(x+width/2, tilePad+27, fmt.Sprintf(
		`text-anchor="middle" font-family="%s" font-size="%d" font-weight="700" fill="#ffffff"`,
		fontStack, fontPx), label)
}

// writeTileText draws the wrapped title and the category below the motif.
func writeTileText(b *svgBuilder, title, category string) {
	maxEm := float64(tileSize-2*tilePad) / tileTitlePx / boldScale
	lines := wrapText(title, maxEm, 3)
	titleAttrs := fmt.Sprintf(`font-family="%s" font-size="%d" font-weight="700" fill="#1c2230"`,
		fontStack, tileTitlePx)
	y := float64(tileArtH + tilePad + tileTitlePx)
	for _, line := range lines {
		b.text(tilePad, y, titleAttrs, line)
		y += tileTitlePx * 1.3
	}

	if category == "" {
		return
	}
	const categoryPx = 14
	label := truncate(category, float64(tileSize-2*tilePad)/categoryPx)
	b.text(tilePad, tileSize-tilePad+2, fmt.Sprintf(
		`font-family="%s" font-size="%d" fill="#4a5263" letter-spacing="0.5"`, fontStack, categoryPx), label)
}

// topCategory returns the first level of a category path such as
// "Apparel > Shoes" or "Home/Kitchen".
func topCategory(path string) string {
	for _, sep := range []string{">", "/", "|"} {
		if i := strings.Index(path, sep); i >= 0 {
			path = path[:i]
		}
	}
	return strings.TrimSpace(path)
}

// motifFunc draws a decorative pattern inside the box (x, y, w, h). The
// caller sets fill and stroke colours on an enclosing group.
type motifFunc func(b *svgBuilder, x, y, w, h float64)

// motifKeywords maps words found in a top-level category, in English or
// Chinese, to the motif drawn for it.
var motifKeywords = []struct {
	words []string
	motif motifFunc
}{
	{[]string{"shoe", "boot", "footwear", "sneaker", "鞋", "靴"}, drawSteps},
	{[]string{"apparel", "cloth", "fashion", "wear", "服", "装"}, drawStripes},
	{[]string{"outdoor", "sport", "travel", "camp", "户外", "运动", "旅行"}, drawMountains},
	{[]string{"home", "kitchen", "furniture", "garden", "家", "厨"}, drawHexagons},
	{[]string{"beauty", "cosmetic", "skin", "care", "美", "护"}, drawBubbles},
	{[]string{"electronic", "tech", "computer", "phone", "digital", "数码", "电"}, drawGrid},
	{[]string{"tea", "food", "grocery", "drink", "coffee", "茶", "食", "饮"}, drawPetals},
	{[]string{"jewel", "accessor", "bag", "watch", "配饰", "饰", "包"}, drawDiamonds},
	{[]string{"toy", "kid", "baby", "child", "gift", "玩具", "母婴", "儿童", "礼"}, drawConfetti},
}

// categoryMotif picks the motif for a top-level category by keyword, or
// by a stable hash of the category (or of fallback when the category is
// empty) when no keyword matches.
func categoryMotif(category, fallback string) motifFunc {
	lower := strings.ToLower(category)
	for _, entry := range motifKeywords {
		for _, word := range entry.words {
			if strings.Contains(lower, word) {
				return entry.motif
			}
		}
	}
	key := category
	if key == "" {
		key = fallback
	}
	return motifKeywords[hashIndex(key, len(motifKeywords))].motif
}

func drawSteps(b *svgBuilder, x, y, w, h float64) {
	for i := range 5 {
		fi := float64(i)
		b.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="10" stroke="none" opacity="%s"/>`+"\n",
			num(x+w*0.08+fi*w*0.12), num(y+h*0.78-fi*h*0.14), num(w*0.5), num(h*0.12), num(0.5+fi*0.1))
	}
}

func drawStripes(b *svgBuilder, x, y, w, h float64) {
	for i := -4; i < 10; i++ {
		fi := float64(i)
		b.printf(`<path d="M%s %s l%s %s l%s 0 l%s %s z" stroke="none" opacity="%s"/>`+"\n",
			num(x+fi*w*0.12), num(y+h), num(h*0.6), num(-h), num(w*0.05), num(-h*0.6), num(h),
			num(0.35+0.1*float64((i+4)%3)))
	}
}

func drawMountains(b *svgBuilder, x, y, w, h float64) {
	b.printf(`<circle cx="%s" cy="%s" r="%s" stroke="none" opacity="0.6"/>`+"\n",
		num(x+w*0.22), num(y+h*0.3), num(h*0.12))
	peaks := [][3]float64{{0.05, 0.45, 0.55}, {0.3, 0.25, 0.8}, {0.6, 0.4, 0.7}}
	for _, p := range peaks {
		left, top, opacity := p[0], p[1], p[2]
		b.printf(`<path d="M%s %s L%s %s L%s %s z" stroke="none" opacity="%s"/>`+"\n",
			num(x+w*left), num(y+h), num(x+w*(left+0.22)), num(y+h*top), num(x+w*(left+0.48)), num(y+h),
			num(opacity))
	}
}

func drawHexagons(b *svgBuilder, x, y, w, h float64) {
	const r = 30.0
	for row := 0; float64(row)*r*1.5 < h+r; row++ {
		offset := 0.0
		if row%2 == 1 {
			offset = r * 0.866
		}
		for col := 0; float64(col)*r*1.732 < w+r; col++ {
			cx := x + offset + float64(col)*r*1.732
			cy := y + float64(row)*r*1.5
			var points []string
			for k := range 6 {
				px, py := polar(cx, cy, r*0.9, 30+60*float64(k))
				points = append(points, num(px)+","+num(py))
			}
			b.printf(`<polygon points="%s" fill="none" stroke-width="3" opacity="%s"/>`+"\n",
				strings.Join(points, " "), num(0.4+0.15*float64((row+col)%3)))
		}
	}
}

func drawBubbles(b *svgBuilder, x, y, w, h float64) {
	circles := [][3]float64{{0.2, 0.35, 0.22}, {0.55, 0.6, 0.3}, {0.8, 0.25, 0.16}, {0.4, 0.15, 0.1}, {0.9, 0.75, 0.12}}
	for i, c := range circles {
		b.printf(`<circle cx="%s" cy="%s" r="%s" stroke="none" opacity="%s"/>`+"\n",
			num(x+w*c[0]), num(y+h*c[1]), num(h*c[2]), num(0.35+0.12*float64(i%3)))
	}
}

func drawGrid(b *svgBuilder, x, y, w, h float64) {
	const cell = 34.0
	for row := 0; float64(row)*cell < h; row++ {
		for col := 0; float64(col)*cell < w; col++ {
			if (row*7+col*3)%4 == 0 {
				continue
			}
			b.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="4" stroke="none" opacity="%s"/>`+"\n",
				num(x+float64(col)*cell+4), num(y+float64(row)*cell+4), num(cell-8), num(cell-8),
				num(0.25+0.15*float64((row+col)%3)))
		}
	}
}

func drawPetals(b *svgBuilder, x, y, w, h float64) {
	cx, cy := x+w*0.5, y+h*0.5
	for k := range 8 {
		angle := 45 * float64(k)
		px, py := polar(cx, cy, h*0.22, angle)
		b.printf(`<ellipse cx="%s" cy="%s" rx="%s" ry="%s" transform="rotate(%s %s %s)" stroke="none" opacity="%s"/>`+"\n",
			num(px), num(py), num(h*0.2), num(h*0.08), num(angle), num(px), num(py), num(0.35+0.1*float64(k%3)))
	}
	b.printf(`<circle cx="%s" cy="%s" r="%s" stroke="none" opacity="0.8"/>`+"\n", num(cx), num(cy), num(h*0.08))
}

func drawDiamonds(b *svgBuilder, x, y, w, h float64) {
	const size = 46.0
	for row := 0; float64(row)*size < h+size; row++ {
		for col := 0; float64(col)*size < w+size; col++ {
			cx := x + float64(col)*size + float64(row%2)*size/2
			cy := y + float64(row)*size
			b.printf(`<path d="M%s %s l%s %s l%s %s l%s %s z" stroke="none" opacity="%s"/>`+"\n",
				num(cx), num(cy-size*0.4), num(size*0.3), num(size*0.4), num(-size*0.3), num(size*0.4),
				num(-size*0.3), num(-size*0.4), num(0.25+0.15*float64((row+col)%3)))
		}
	}
}

func drawConfetti(b *svgBuilder, x, y, w, h float64) {
	for i := range 18 {
		fi := float64(i)
		cx := x + w*float64((i*37)%100)/100
		cy := y + h*float64((i*61+13)%100)/100
		if i%2 == 0 {
			b.printf(`<circle cx="%s" cy="%s" r="%s" stroke="none" opacity="%s"/>`+"\n",
				num(cx), num(cy), num(6+float64(i%4)*4), num(0.35+0.1*float64(i%4)))
			continue
		}
		b.printf(`<rect x="%s" y="%s" width="18" height="8" rx="3" transform="rotate(%s %s %s)" stroke="none" opacity="0.6"/>`+"\n",
			num(cx), num(cy), num(fi*23), num(cx), num(cy))
	}
}
