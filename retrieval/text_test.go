package retrieval

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// splitRunsByRune is splitRuns without the ASCII fast path: every rune is
// folded and classified on its own.
func splitRunsByRune(s string) []textRun {
	var out []textRun
	var b strings.Builder
	cjk := false
	flush := func() {
		if b.Len() > 0 {
			out = append(out, textRun{text: b.String(), cjk: cjk})
			b.Reset()
		}
	}
	for _, r := range s {
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
	return out
}

func collectRuns(s string) []textRun {
	var out []textRun
	splitRuns(s, func(r textRun) { out = append(out, r) })
	return out
}

var splitRunsCases = []string{
	"", "Waterproof Hiking Boots", "BEHR Premium 1-gal. #SC-141", "café crème", "e\u0301clair",
	"无线蓝牙耳机 300元以内", "Ｗｉｆｉ路由器", "abcＤＥＦghi", "ABC中文DEF", "l bracket", "3/4 in. x 10 ft.",
	"Ünïcödé Wörds", "naïve", "x\u00a0y", "Travel Backpack 40L", "蓝牙earbuds", "MiXeD cAsE",
}

func TestSplitRunsMatchesRuneByRune(t *testing.T) {
	for _, s := range splitRunsCases {
		got, want := collectRuns(s), splitRunsByRune(s)
		if !slices.Equal(got, want) {
			t.Errorf("splitRuns(%q) = %+v, want %+v", s, got, want)
		}
	}
}

func FuzzSplitRuns(f *testing.F) {
	for _, s := range splitRunsCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := collectRuns(s), splitRunsByRune(s)
		if !slices.Equal(got, want) {
			t.Errorf("splitRuns(%q) = %+v, want %+v", s, got, want)
		}
	})
}
