package retrieval

import (
	"regexp"
	"strconv"
	"strings"
)

// Price phrases recognised by ParseFilter. Amounts may carry a currency
// symbol or word; the filter itself ignores currency.
const (
	numRE      = `(\d+(?:[.,]\d+)?)`
	preCurRE   = `(?:[$€£¥￥₹]\s*)?`
	postCurEN  = `(?:\s*(?:dollars?|bucks|usd|eur|euros?|rmb|yuan|rupees?|inr|gbp|pounds?))?`
	postCurZH  = `\s*(?:元|块钱|块|rmb|人民币)?`
	postCurAny = `(?:\s*(?:dollars?|bucks|usd|eur|euros?|rmb|yuan|rupees?|inr|gbp|pounds?|元|块钱|块))?`
)

type priceRule struct {
	re *regexp.Regexp
	// apply sets the bounds from the submatches (amounts start at index 1).
	apply func(f *Filter, nums []float64)
}

func setMax(f *Filter, n []float64) { f.MaxPrice = n[0] }
func setMin(f *Filter, n []float64) { f.MinPrice = n[0] }
func setRange(f *Filter, n []float64) {
	f.MinPrice, f.MaxPrice = min(n[0], n[1]), max(n[0], n[1])
}

// setAround allows 20% either side of an approximate amount.
func setAround(f *Filter, n []float64) { f.MinPrice, f.MaxPrice = n[0]*0.8, n[0]*1.2 }

// priceRules are tried in order; ranges come before single bounds so that
// "between 50 and 80" is not read as two bounds.
var priceRules = []priceRule{
	{regexp.MustCompile(`(?i)\bbetween\s+` + preCurRE + numRE + postCurEN + `\s+and\s+` + preCurRE + numRE + postCurEN), setRange},
	{regexp.MustCompile(`(?i)\bfrom\s+` + preCurRE + numRE + postCurEN + `\s+to\s+` + preCurRE + numRE + postCurEN), setRange},
	{regexp.MustCompile(`(?i)` + preCurRE + numRE + postCurAny + `\s*(?:-|–|~|～|to|到|至)\s*` + preCurRE + numRE + `(?:\s*(?:dollars?|bucks|usd|eur|euros?|rmb|yuan|rupees?|inr|gbp|pounds?)\b|\s*(?:元|块钱|块)(?:之间)?)`), setRange},
	{regexp.MustCompile(`(?i)\$\s*` + numRE + `\s*(?:-|–|to)\s*\$\s*` + numRE), setRange},
	{regexp.MustCompile(`(?i)\b(?:under|below|less\s+than|cheaper\s+than|at\s+most|up\s+to|no\s+more\s+than|not\s+more\s+than|max(?:imum)?|within|lower\s+than)\s+` + preCurRE + numRE + postCurEN), setMax},
	{regexp.MustCompile(`(?i)\b(?:over|above|more\s+than|at\s+least|min(?:imum)?|higher\s+than|from)\s+` + preCurRE + numRE + postCurEN), setMin},
	{regexp.MustCompile(`(?i)\b(?:around|about|approximately|roughly|circa)\s+` + preCurRE + numRE + postCurEN), setAround},
	{regexp.MustCompile(`(?:不超过|不高于|不到|低于|少于|小于|最多|以内的?|预算)\s*` + preCurRE + numRE + postCurZH + `(?:以内|以下|之内)?`), setMax},
	{regexp.MustCompile(preCurRE + numRE + postCurZH + `\s*(?:以内|以下|之内|内)`), setMax},
	{regexp.MustCompile(`(?:超过|高于|不低于|至少|最少|大于)\s*` + preCurRE + numRE + postCurZH + `(?:以上)?`), setMin},
	{regexp.MustCompile(preCurRE + numRE + postCurZH + `\s*(?:以上)`), setMin},
	{regexp.MustCompile(`(?:大概|大约|差不多)?\s*` + preCurRE + numRE + postCurZH + `\s*(?:左右|上下)`), setAround},
	{regexp.MustCompile(`(?:大概|大约|差不多)\s*` + preCurRE + numRE + `\s*(?:元|块钱|块)`), setAround},
}

var inStockRE = regexp.MustCompile(`(?i)\b(?:in\s+stock|available\s+now|ready\s+to\s+ship)\b|有货|现货|有库存`)

// colorWords maps colour words in English and Chinese to one English name.
var colorWords = map[string]string{
	"red": "red", "blue": "blue", "green": "green", "black": "black",
	"white": "white", "yellow": "yellow", "pink": "pink", "purple": "purple",
	"orange": "orange", "brown": "brown", "grey": "gray", "gray": "gray",
	"beige": "beige", "navy": "navy", "gold": "gold", "silver": "silver",
	"红色": "red", "蓝色": "blue", "绿色": "green", "黑色": "black",
	"白色": "white", "黄色": "yellow", "粉色": "pink", "粉红色": "pink",
	"紫色": "purple", "橙色": "orange", "棕色": "brown", "咖啡色": "brown",
	"灰色": "gray", "米色": "beige", "藏青色": "navy", "金色": "gold", "银色": "silver",
}

// cjkColors lists the Chinese colour words, longest first, because they are
// found by substring search rather than by word.
var cjkColors = []string{"粉红色", "藏青色", "咖啡色", "红色", "蓝色", "绿色", "黑色", "白色",
	"黄色", "粉色", "紫色", "橙色", "棕色", "灰色", "米色", "金色", "银色"}

// ParseFilter reads the constraints a shopper's message implies: a price
// bound or range ("under 100", "below $50", "between 50 and 80",
// "50-80 dollars", "100元以内", "不超过300块", "200块以下", "50到80元"), an
// approximate price ("around 50", "300元左右", read as ±20%), "in stock"
// or "有货", and colour words in English or Chinese.
func ParseFilter(text string) Filter {
	f, _ := parseFilterText(text)
	return f
}

// parseFilterText returns the filter that text implies and text with the
// price and stock phrases removed, for use as the keyword query. Colour words
// stay in the text, because they also describe the product.
func parseFilterText(text string) (Filter, string) {
	var f Filter
	rest := text
	for _, rule := range priceRules {
		m := rule.re.FindStringSubmatchIndex(rest)
		if m == nil {
			continue
		}
		nums, ok := submatchNumbers(rest, m)
		if !ok {
			continue
		}
		rule.apply(&f, nums)
		rest = rest[:m[0]] + " " + rest[m[1]:]
		break
	}
	if loc := inStockRE.FindStringIndex(rest); loc != nil {
		f.InStockOnly = true
		rest = rest[:loc[0]] + " " + rest[loc[1]:]
	}
	f.Colors = findColors(rest)
	return f, strings.TrimSpace(rest)
}

func submatchNumbers(s string, m []int) ([]float64, bool) {
	var nums []float64
	for i := 2; i+1 < len(m); i += 2 {
		if m[i] < 0 {
			continue
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(s[m[i]:m[i+1]], ",", "."), 64)
		if err != nil {
			return nil, false
		}
		nums = append(nums, v)
	}
	return nums, len(nums) > 0
}

func findColors(text string) []string {
	var out []string
	seen := map[string]bool{}
	addColor := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	splitRuns(text, func(r textRun) {
		if r.cjk {
			return
		}
		if c, ok := colorWords[r.text]; ok {
			addColor(c)
		}
	})
	for _, w := range cjkColors {
		if strings.Contains(text, w) {
			addColor(colorWords[w])
			text = strings.ReplaceAll(text, w, " ")
		}
	}
	return out
}

// mergeFilters combines the caller's filter with the one parsed from the
// text. Bounds from the caller win; lists are joined.
func mergeFilters(caller, parsed Filter) Filter {
	out := caller
	if out.MinPrice == 0 {
		out.MinPrice = parsed.MinPrice
	}
	if out.MaxPrice == 0 {
		out.MaxPrice = parsed.MaxPrice
	}
	out.InStockOnly = out.InStockOnly || parsed.InStockOnly
	out.Categories = appendUnique(append([]string(nil), caller.Categories...), parsed.Categories...)
	out.Brands = appendUnique(append([]string(nil), caller.Brands...), parsed.Brands...)
	out.Colors = appendUnique(append([]string(nil), caller.Colors...), parsed.Colors...)
	return out
}

func appendUnique(dst []string, src ...string) []string {
	for _, s := range src {
		found := false
		for _, d := range dst {
			if strings.EqualFold(d, s) {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// isZero reports whether f matches every product.
func (f Filter) isZero() bool {
	return f.MinPrice == 0 && f.MaxPrice == 0 && !f.InStockOnly &&
		len(f.Categories) == 0 && len(f.Brands) == 0 && len(f.Colors) == 0
}
