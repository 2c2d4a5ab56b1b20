package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// isCJK reports whether r belongs to a script written without spaces
// between words, so that search splits it into character n-grams.
func isCJK(r rune) bool {
	// U+1100 is the first Hangul Jamo; every script below it is spaced.
	if r < 0x1100 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// foldRune lowercases r and maps full-width ASCII forms (U+FF01 to U+FF5E),
// common in Chinese input, to their ASCII counterparts.
func foldRune(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	return unicode.ToLower(r)
}

// textRun is a maximal run of word characters: either Latin-like letters and
// digits (a word) or CJK characters.
type textRun struct {
	text string
	cjk  bool
}

// splitRuns folds s and splits it into word runs and CJK runs. Everything
// else (spaces, punctuation, symbols) separates runs.
func splitRuns(s string, fn func(textRun)) {
	var b strings.Builder
	cjk := false
	flush := func() {
		if b.Len() > 0 {
			fn(textRun{text: b.String(), cjk: cjk})
			b.Reset()
		}
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if !isASCIIAlnum(c) {
				flush()
				i++
				continue
			}
			if cjk {
				flush()
				cjk = false
			}
			// Most catalog text is ASCII: a word that starts and ends
			// within ASCII becomes a substring of s, lowercased only when
			// it has an upper-case letter.
			j := i + 1
			for j < len(s) && isASCIIAlnum(s[j]) {
				j++
			}
			if b.Len() == 0 && (j == len(s) || s[j] < utf8.RuneSelf) {
				fn(textRun{text: lowerASCII(s[i:j])})
			} else {
				for k := i; k < j; k++ {
					b.WriteByte(lowerASCIIByte(s[k]))
				}
			}
			i = j
			continue
		}

		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		r = foldRune(r)
		switch {
		case isCJK(r):
			if !cjk {
				flush()
				cjk = true
			}
			b.WriteRune(r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if cjk {
				flush()
				cjk = false
			}
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func lowerASCIIByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerASCII lowercases an ASCII string, returning s itself when it has no
// upper-case letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				b[k] = lowerASCIIByte(b[k])
			}
			return string(b)
		}
	}
	return s
}

// stem removes common English plural endings so that "boots" matches
// "boot" and "batteries" matches "battery". Words of three letters or
// fewer, and words ending in "ss", "us" or "is", are left as they are.
func stem(w string) string {
	n := len(w)
	if n <= 3 || !isASCIILetters(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && n > 4:
		return w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"),
		strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "zes"):
		return w[:n-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "s"):
		return w[:n-1]
	}
	return w
}

func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// stopWords are English function words and shopping filler that carry no
// product meaning; keyword search drops them from documents and queries.
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true,
	"for": true, "to": true, "in": true, "on": true, "with": true, "at": true,
	"by": true, "from": true, "is": true, "are": true, "it": true, "this": true,
	"that": true, "i": true, "me": true, "my": true, "you": true, "your": true,
	"we": true, "our": true, "some": true, "any": true, "please": true,
	"want": true, "need": true, "looking": true, "show": true, "find": true,
	"something": true, "would": true, "like": true, "can": true, "do": true,
	"have": true, "has": true, "be": true, "am": true, "im": true,
}

// cjkFiller are Chinese request phrases ("I want to buy", "recommend")
// removed from queries before they are split into n-grams. Longer phrases
// come first so that they are removed whole.
var cjkFiller = []string{
	"有没有", "我想买", "我想要", "帮我找", "请推荐", "推荐一下", "给我推荐",
	"我要买", "想买", "我要", "推荐", "一下", "一个", "一款", "一件", "请问",
	"帮我", "给我", "什么", "哪些", "我想", "吗", "呢", "吧", "的",
}

// stripCJKFiller removes Chinese request phrases from a query.
func stripCJKFiller(s string) string {
	for _, f := range cjkFiller {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, " ")
		}
	}
	return s
}

// keywordTokens splits s into BM25 terms: stemmed Latin words without stop
// words, and for each CJK run its character bigrams, plus its unigrams when
// unigrams is true or the run is a single character. The options in o turn
// each of these steps off.
func (o tokenOptions) keywordTokens(s string, unigrams bool, out []string) []string {
	splitRuns(s, func(r textRun) {
		if !r.cjk {
			if o.noStopWords || !stopWords[r.text] {
				if o.noStemming {
					out = append(out, r.text)
				} else {
					out = append(out, stem(r.text))
				}
			}
			return
		}
		if o.noCJKBigrams {
			for _, c := range r.text {
				out = append(out, string(c))
			}
			return
		}
		out = appendCJKGrams(r.text, unigrams, out)
	})
	return out
}

func appendCJKGrams(run string, unigrams bool, out []string) []string {
	if utf8.RuneCountInString(run) == 1 {
		return append(out, run)
	}
	prev := -1
	for i := range run {
		if unigrams {
			_, size := utf8.DecodeRuneInString(run[i:])
			out = append(out, run[i:i+size])
		}
		if prev >= 0 {
			_, size := utf8.DecodeRuneInString(run[i:])
			out = append(out, run[prev:i+size])
		}
		prev = i
	}
	return out
}
