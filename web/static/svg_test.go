package static

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
)

// hostile is text an attacker could put into a catalog title or an offer.
const hostile = `<script>alert("x")</script> Tom & Jerry's "boots" ]]> <!-- x`

// parseSVG decodes every token of out and returns the root element's
// width and height attributes and all character data joined by newlines.
func parseSVG(t *testing.T, out string) (width, height, text string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(out))
	var texts []string
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("output is not well-formed XML: %v\n%s", err, out)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root {
				if el.Name.Local != "svg" {
					t.Fatalf("root element = %q, want svg", el.Name.Local)
				}
				for _, a := range el.Attr {
					switch a.Name.Local {
					case "width":
						width = a.Value
					case "height":
						height = a.Value
					}
				}
				root = false
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(el)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	return width, height, strings.Join(texts, "\n")
}

// checkSelfContained fails when out references anything outside itself.
func checkSelfContained(t *testing.T, out string) {
	t.Helper()
	if n := strings.Count(out, "http"); n != 1 {
		t.Errorf("output mentions http %d times, want only the xmlns", n)
	}
	for _, banned := range []string{"href", "@import", "<image", "<foreignObject"} {
		if strings.Contains(out, banned) {
			t.Errorf("output contains %q, want no external references", banned)
		}
	}
	for _, ref := range regexp.MustCompile(`url\([^)]*\)`).FindAllString(out, -1) {
		if !strings.HasPrefix(ref, "url(#") {
			t.Errorf("output contains %s, want only local url(#id) references", ref)
		}
	}
}

func renderProduct(t testing.TB, in ProductImageInput) string {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderProductImage(&buf, in); err != nil {
		t.Fatalf("RenderProductImage(%+v) error: %v", in, err)
	}
	return buf.String()
}

func renderBanner(t testing.TB, in BannerInput) string {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderBanner(&buf, in); err != nil {
		t.Fatalf("RenderBanner(%+v) error: %v", in, err)
	}
	return buf.String()
}

func TestProductImageEscapesText(t *testing.T) {
	out := renderProduct(t, ProductImageInput{
		ID: `p"1`, Title: hostile, Category: "Toys & <Games>", Price: 12.5, Currency: "USD",
	})

	width, height, text := parseSVG(t, out)
	if width != "400" || height != "400" {
		t.Errorf("size = %sx%s, want 400x400", width, height)
	}
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Errorf("output contains a raw <script tag:\n%s", out)
	}
	if !strings.Contains(text, "<script>") {
		t.Errorf("decoded text = %q, want the title's <script> shown as text", text)
	}
	if !strings.Contains(text, "Toys & <Games>") {
		t.Errorf("decoded text = %q, want the category as given", text)
	}
	if !strings.Contains(text, "$12.50") {
		t.Errorf("decoded text = %q, want price $12.50", text)
	}
	checkSelfContained(t, out)
}

func TestBannerEscapesText(t *testing.T) {
	in := BannerInput{
		OfferID: `o"1<`, Title: hostile, Copy: "Save on <b>boots</b> & more",
		Code: `<CODE&"1>`, Kind: "percentage", Value: 10, Lang: "en",
		Scenario: "<script>", Festival: "<script>fest</script>",
	}
	out := renderBanner(t, in)

	width, height, text := parseSVG(t, out)
	if width != "600" || height != "200" {
		t.Errorf("size = %sx%s, want 600x200", width, height)
	}
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Errorf("output contains a raw <script tag:\n%s", out)
	}
	for _, want := range []string{"<script>alert", "<CODE&\"1>", "<b>boots</b>", "<script>fest</script>"} {
		if !strings.Contains(text, want) {
			t.Errorf("decoded text = %q, want it to contain %q", text, want)
		}
	}
	checkSelfContained(t, out)
}

func TestRenderControlCharacters(t *testing.T) {
	title := "bad\x00\x1b\x7f\ufffe title"
	product := renderProduct(t, ProductImageInput{ID: "x", Title: title})
	parseSVG(t, product)

	banner := renderBanner(t, BannerInput{Title: title, Copy: title, Code: "\x01", Festival: "\x02"})
	parseSVG(t, banner)
}

func TestProductImageColoursByCategory(t *testing.T) {
	fill := regexp.MustCompile(`stop-color="(#[0-9a-f]{6})"`)
	colours := func(in ProductImageInput) string {
		t.Helper()
		matches := fill.FindAllStringSubmatch(renderProduct(t, in), -1)
		if len(matches) != 2 {
			t.Fatalf("found %d gradient stops, want 2", len(matches))
		}
		return matches[0][1] + matches[1][1]
	}

	boot := colours(ProductImageInput{ID: "a", Title: "Trail Boot", Category: "Footwear > Boots"})
	sandal := colours(ProductImageInput{ID: "b", Title: "Beach Sandal", Category: "Footwear > Sandals"})
	kettle := colours(ProductImageInput{ID: "c", Title: "Kettle", Category: "Kitchen"})
	if boot != sandal {
		t.Errorf("colours differ within Footwear: %s and %s", boot, sandal)
	}
	if boot == kettle {
		t.Errorf("Footwear and Kitchen share colours %s, want different hues", boot)
	}

	again := colours(ProductImageInput{ID: "z", Title: "Other", Category: "Footwear"})
	if again != boot {
		t.Errorf("colours for Footwear changed between calls: %s then %s", boot, again)
	}
}

func TestCategoryMotif(t *testing.T) {
	cases := []struct {
		name     string
		category string
		want     string // a fragment only that motif draws
	}{
		{name: "boots", category: "Footwear", want: `rx="10"`},
		{name: "outdoor", category: "Outdoor > Camping", want: `<circle`},
		{name: "kitchen_zh", category: "家居 > 厨房", want: `<polygon`},
		{name: "tea_zh", category: "茶叶", want: `<ellipse`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := renderProduct(t, ProductImageInput{ID: "p", Title: "T", Category: tc.category})
			if !strings.Contains(out, tc.want) {
				t.Errorf("tile for %q does not contain %s", tc.category, tc.want)
			}
		})
	}

	unknown := renderProduct(t, ProductImageInput{ID: "p", Title: "T", Category: "Zzyzx"})
	if unknown != renderProduct(t, ProductImageInput{ID: "p", Title: "T", Category: "Zzyzx"}) {
		t.Error("tile for an unknown category differs between calls")
	}
}

func TestProductImageWrapsTitle(t *testing.T) {
	long := "Waterproof Leather Hiking Boot with Vibram Sole, Gore-Tex Lining and " +
		"Insulated Footbed for Winter Trails and Snowy City Streets"
	out := renderProduct(t, ProductImageInput{ID: "p", Title: long, Category: "Footwear"})
	_, _, text := parseSVG(t, out)

	lines := strings.Split(text, "\n")
	titleLines := 0
	for _, line := range lines[1:] { // lines[0] is the <title> element
		if strings.Contains(long, strings.TrimSuffix(line, "…")) {
			titleLines++
		}
	}
	if titleLines != 3 {
		t.Errorf("title drawn on %d lines, want 3 (the maximum): %q", titleLines, lines)
	}
	if !strings.Contains(text, "…") {
		t.Errorf("decoded text = %q, want an ellipsis on the cut title", text)
	}
}

func TestProductImageZeroPrice(t *testing.T) {
	out := renderProduct(t, ProductImageInput{ID: "p", Title: "Mystery", Category: "Toys"})
	_, _, text := parseSVG(t, out)
	if strings.ContainsAny(text, "$¥0") {
		t.Errorf("decoded text = %q, want no price for an unknown price", text)
	}
}

func TestProductImageEmptyTitle(t *testing.T) {
	out := renderProduct(t, ProductImageInput{ID: "sku-42"})
	_, _, text := parseSVG(t, out)
	if !strings.Contains(text, "sku-42") {
		t.Errorf("decoded text = %q, want the id in place of the empty title", text)
	}
}

func TestBannerBadge(t *testing.T) {
	cases := []struct {
		name  string
		kind  string
		value float64
		lang  string
		want  []string
	}{
		{name: "percentage_en", kind: "percentage", value: 15, lang: "en", want: []string{"15%", "OFF"}},
		{name: "percentage_zh", kind: "percentage", value: 15, lang: "zh", want: []string{"8.5折"}},
		{name: "percentage_zh_whole", kind: "percentage", value: 20, lang: "zh", want: []string{"8折"}},
		{name: "fixed_amount_en", kind: "fixed_amount", value: 20, lang: "en", want: []string{"SAVE", "20"}},
		{name: "fixed_amount_zh", kind: "fixed_amount", value: 12.5, lang: "zh", want: []string{"立减", "12.5"}},
		{name: "free_shipping_en", kind: "free_shipping", lang: "en", want: []string{"FREE", "SHIPPING"}},
		{name: "free_shipping_zh", kind: "free_shipping", lang: "zh", want: []string{"包邮"}},
		{name: "gift_zh", kind: "gift", lang: "zh", want: []string{"好礼", "相送"}},
		{name: "unknown_kind", kind: "mystery", lang: "en", want: []string{"SPECIAL", "OFFER"}},
		{name: "percentage_out_of_range", kind: "percentage", value: 120, lang: "en", want: []string{"SPECIAL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := renderBanner(t, BannerInput{
				OfferID: "o", Title: "Offer", Kind: tc.kind, Value: tc.value, Lang: tc.lang,
			})
			_, _, text := parseSVG(t, out)
			lines := strings.Split(text, "\n")
			for _, want := range tc.want {
				found := false
				for _, line := range lines {
					found = found || line == want
				}
				if !found {
					t.Errorf("banner text lines = %q, want a line %q", lines, want)
				}
			}
		})
	}
}

func TestBannerChineseLabels(t *testing.T) {
	out := renderBanner(t, BannerInput{
		OfferID: "welcome", Title: "新人专享", Copy: "首单立享优惠", Code: "HELLO10",
		Kind: "percentage", Value: 10, Lang: "zh", Festival: "double_12",
	})
	_, _, text := parseSVG(t, out)
	for _, want := range []string{"新人专享", "首单立享优惠", "优惠码 HELLO10", "双十二", "9折"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner text = %q, want it to contain %q", text, want)
		}
	}
}

func TestBannerFestivalAccent(t *testing.T) {
	plain := renderBanner(t, BannerInput{Title: "Sale", Kind: "gift", Lang: "en"})
	festive := renderBanner(t, BannerInput{Title: "Sale", Kind: "gift", Lang: "en", Festival: "black_friday"})
	custom := renderBanner(t, BannerInput{Title: "Sale", Kind: "gift", Lang: "en", Festival: "Store Birthday"})
	customID := renderBanner(t, BannerInput{Title: "Sale", Kind: "gift", Lang: "en", Festival: "store_birthday"})

	_, _, text := parseSVG(t, festive)
	if !strings.Contains(text, "Black Friday") {
		t.Errorf("banner text = %q, want the festival name Black Friday", text)
	}
	_, _, text = parseSVG(t, custom)
	if !strings.Contains(text, "Store Birthday") {
		t.Errorf("banner text = %q, want an unknown festival shown as given", text)
	}
	_, _, text = parseSVG(t, customID)
	if !strings.Contains(text, "Store Birthday") {
		t.Errorf("banner text = %q, want the id store_birthday shown as Store Birthday", text)
	}
	if strings.Count(festive, "<path") <= strings.Count(plain, "<path") {
		t.Error("festival banner draws no more shapes than the plain one, want sparkles")
	}
}

func TestBannerColoursByScenario(t *testing.T) {
	stop := regexp.MustCompile(`stop-color="(#[0-9a-f]{6})"`)
	first := func(in BannerInput) string {
		t.Helper()
		m := stop.FindStringSubmatch(renderBanner(t, in))
		if m == nil {
			t.Fatal("banner has no gradient")
		}
		return m[1]
	}
	gift := first(BannerInput{Title: "A", Kind: "gift", Scenario: "gift_shopping"})
	giftAgain := first(BannerInput{Title: "B", Kind: "percentage", Scenario: "gift_shopping"})
	bargain := first(BannerInput{Title: "A", Kind: "gift", Scenario: "bargain_hunting"})
	if gift != giftAgain {
		t.Errorf("gift_shopping colours differ between offers: %s and %s", gift, giftAgain)
	}
	if gift == bargain {
		t.Errorf("gift_shopping and bargain_hunting share colour %s", gift)
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRenderWriteError(t *testing.T) {
	if err := RenderBanner(failingWriter{}, BannerInput{Title: "x"}); !errors.Is(err, errWrite) {
		t.Errorf("RenderBanner error = %v, want %v", err, errWrite)
	}
	if err := RenderProductImage(failingWriter{}, ProductImageInput{Title: "x"}); !errors.Is(err, errWrite) {
		t.Errorf("RenderProductImage error = %v, want %v", err, errWrite)
	}
}

func TestWrapText(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		maxEm    float64
		maxLines int
		want     []string
	}{
		{name: "fits", text: "Tea set", maxEm: 10, maxLines: 2, want: []string{"Tea set"}},
		{name: "breaks_at_space", text: "alpha beta gamma", maxEm: 4, maxLines: 3,
			want: []string{"alpha", "beta", "gamma"}},
		{name: "collapses_spaces", text: "  a \n\t b  ", maxEm: 10, maxLines: 1, want: []string{"a b"}},
		{name: "cjk_breaks_anywhere", text: "青瓷功夫茶具套装", maxEm: 4, maxLines: 2,
			want: []string{"青瓷功夫", "茶具套装"}},
		{name: "cjk_ellipsis", text: "青瓷功夫茶具套装礼盒", maxEm: 4, maxLines: 2,
			want: []string{"青瓷功夫", "茶具套…"}},
		{name: "long_word_cut", text: "aaaaaaaaaaaaaaaaaaaa", maxEm: 6.1, maxLines: 3,
			want: []string{"aaaaaaaaaa", "aaaaaaaaaa"}},
		{name: "empty", text: "", maxEm: 5, maxLines: 2, want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := wrapText(tc.text, tc.maxEm, tc.maxLines)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("wrapText(%q, %v, %d) = %q, want %q", tc.text, tc.maxEm, tc.maxLines, got, tc.want)
			}
			for _, line := range got {
				if w := textWidth(line); w > tc.maxEm {
					t.Errorf("line %q is %.2f em wide, want at most %v", line, w, tc.maxEm)
				}
			}
		})
	}
}

func TestFormatPrice(t *testing.T) {
	cases := []struct {
		name     string
		price    float64
		currency string
		want     string
	}{
		{name: "usd_whole", price: 129, currency: "USD", want: "$129"},
		{name: "usd_cents", price: 19.9, currency: "usd", want: "$19.90"},
		{name: "cny", price: 168, currency: "CNY", want: "¥168"},
		{name: "jpy_no_decimals", price: 1200.4, currency: "JPY", want: "¥1200"},
		{name: "unknown_code", price: 40, currency: "CHF", want: "CHF 40"},
		{name: "no_code", price: 5.5, currency: "", want: "5.50"},
		{name: "zero_is_unknown", price: 0, currency: "USD", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatPrice(tc.price, tc.currency); got != tc.want {
				t.Errorf("formatPrice(%v, %q) = %q, want %q", tc.price, tc.currency, got, tc.want)
			}
		})
	}
}

func TestAssetsEmbedded(t *testing.T) {
	for _, name := range []string{"widget.js", "index.html"} {
		data, err := Assets.ReadFile(name)
		if err != nil {
			t.Errorf("Assets.ReadFile(%q) error: %v", name, err)
			continue
		}
		if len(data) == 0 {
			t.Errorf("asset %s is empty", name)
		}
	}
}

func BenchmarkRenderProductImage(b *testing.B) {
	in := ProductImageInput{
		ID: "trail-boot", Title: "Trail Waterproof Boot with Gore-Tex Lining",
		Category: "Footwear > Boots", Price: 129, Currency: "USD",
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := RenderProductImage(io.Discard, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderBanner(b *testing.B) {
	in := BannerInput{
		OfferID: "welcome10", Title: "Welcome: 10% off your first order",
		Copy: "Use the code at checkout. Valid for new customers for 7 days.", Code: "WELCOME10",
		Kind: "percentage", Value: 10, Lang: "en", Scenario: "gift_shopping", Festival: "singles_day",
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := RenderBanner(io.Discard, in); err != nil {
			b.Fatal(err)
		}
	}
}
