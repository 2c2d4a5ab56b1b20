package scenario

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Feature kinds are mixed into the hash so that a word unigram, a word
// bigram and a character n-gram with the same bytes land in different
// buckets.
const (
	kindWord byte = iota + 1
	kindBigram
	kindChar
	kindBias
)

// wordFeatureWeight is how many times each word unigram and bigram is
// counted. Character n-grams outnumber word features about ten to one, and
// without the extra weight they drown the words out: on CLINC150 (train on
// train, test on val) weight 3 raised in-scope accuracy from 0.911 to 0.919.
const wordFeatureWeight = 3

// maxGramRunes is the number of runes of a padded word that character
// n-grams are taken from. Longer words are cut.
const maxGramRunes = 33

// FNV-1a parameters for 32-bit hashes.
const (
	fnvOffset uint32 = 2166136261
	fnvPrime  uint32 = 16777619
)

// tokenSpan is one token of normalised text, the bytes [start, end): a
// Latin or digit word, a single CJK character or a single symbol such as
// an emoji.
type tokenSpan struct {
	start, end int
	cjk        bool
}

// featureScratch contains the buffers of one feature extraction. Predict
// takes one from a sync.Pool, so that a warm call allocates nothing.
type featureScratch struct {
	text    []byte // normalised text
	tokens  []tokenSpan
	padded  []byte // "<" + word + ">" for character n-grams
	offsets []int  // byte offsets of the runes of padded
	buckets []uint32
	// distinct and counts are the distinct buckets in order of first
	// occurrence and their counts, and slots the open-addressing table that
	// countDistinct builds them with.
	distinct []uint32
	counts   []float64
	slots    []int32
	rows     []int32
	values   []float64
	probs    []float64
}

// sparseVector is a feature vector with sorted, distinct indices.
type sparseVector struct {
	index []uint32
	value []float64
}

// appendNormalized appends text to dst lowercased, with full-width ASCII
// (U+FF01 to U+FF5E, common in Chinese input methods) and the ideographic
// space folded to their ASCII forms.
func appendNormalized(dst []byte, text string) []byte {
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// normalizeText returns text normalised as appendNormalized does.
func normalizeText(text string) string {
	return string(appendNormalized(nil, text))
}

// isCJK reports whether r is a Han, kana or Hangul character, which Chinese
// and Japanese text writes without spaces between words.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// runeClass is the tokenizer's category of a rune.
type runeClass int

const (
	classSeparator runeClass = iota // punctuation and spaces: dropped
	classWord                       // letters, digits and combining marks
	classCJK                        // a token of its own, marked CJK
	classSymbol                     // a token of its own, such as an emoji
)

func classify(r rune) runeClass {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return classWord
		}
		if r == '$' {
			return classSymbol
		}
		return classSeparator
	}
	switch {
	case isCJK(r):
		return classCJK
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
		return classWord
	case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sc, r):
		return classSymbol
	default:
		return classSeparator
	}
}

// appendTokens appends the tokens of normalised text to dst. Punctuation
// and spaces separate tokens and are dropped, except that an apostrophe
// inside a word is kept ("don't").
func appendTokens(dst []tokenSpan, text []byte) []tokenSpan {
	start := -1
	flush := func(end int) {
		if start >= 0 {
			dst = append(dst, tokenSpan{start: start, end: end})
			start = -1
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		switch class := classify(r); {
		case class == classWord:
			if start < 0 {
				start = i
			}
		case r == '\'' && start >= 0:
			// Kept inside a word; a trailing apostrophe is harmless.
		case class == classCJK || class == classSymbol:
			flush(i)
			dst = append(dst, tokenSpan{start: i, end: i + size, cjk: class == classCJK})
		default:
			flush(i)
		}
		i += size
	}
	flush(len(text))
	return dst
}

// tokenize returns the tokens of normalised text as strings.
func tokenize(text string) []string {
	b := []byte(text)
	var out []string
	for _, tok := range appendTokens(nil, b) {
		out = append(out, string(b[tok.start:tok.end]))
	}
	return out
}

// hashStart starts an FNV-1a hash with the feature kind.
func hashStart(kind byte) uint32 {
	return (fnvOffset ^ uint32(kind)) * fnvPrime
}

// hashBytes continues an FNV-1a hash over p.
func hashBytes(h uint32, p []byte) uint32 {
	for _, c := range p {
		h = (h ^ uint32(c)) * fnvPrime
	}
	return h
}

// hashSeparator continues an FNV-1a hash with a zero byte, so that the
// bigrams ("ab", "c") and ("a", "bc") hash differently.
func hashSeparator(h uint32) uint32 {
	return h * fnvPrime
}

// extract fills s.buckets with the hash buckets of text, one entry per
// occurrence. The features are word unigrams and bigrams over the token
// sequence, each counted wordFeatureWeight times. CJK characters are
// tokens, so this yields CJK character unigrams and bigrams. Each Latin
// word adds its character 2- to 5-grams, padded with "<" and ">", and a
// constant bias feature comes first. It returns false when text has no
// tokens, leaving s.buckets empty.
func (s *featureScratch) extract(text string, dim uint32) bool {
	s.text = appendNormalized(s.text[:0], text)
	s.tokens = appendTokens(s.tokens[:0], s.text)
	s.buckets = s.buckets[:0]
	if len(s.tokens) == 0 {
		return false
	}
	s.buckets = append(s.buckets, hashStart(kindBias)%dim)
	for i, tok := range s.tokens {
		word := s.text[tok.start:tok.end]
		unigram := hashBytes(hashStart(kindWord), word) % dim
		bigram := uint32(0)
		if i > 0 {
			prev := s.tokens[i-1]
			h := hashBytes(hashStart(kindBigram), s.text[prev.start:prev.end])
			bigram = hashBytes(hashSeparator(h), word) % dim
		}
		for range wordFeatureWeight {
			s.buckets = append(s.buckets, unigram)
			if i > 0 {
				s.buckets = append(s.buckets, bigram)
			}
		}
		if !tok.cjk && utf8.RuneCount(word) > 1 {
			s.appendCharGrams(word, dim)
		}
	}
	return true
}

// appendCharGrams appends the hashed character 2- to 5-grams of word,
// padded with boundary markers, to s.buckets.
func (s *featureScratch) appendCharGrams(word []byte, dim uint32) {
	s.padded = append(append(append(s.padded[:0], '<'), word...), '>')
	s.offsets = s.offsets[:0]
	for i := 0; i < len(s.padded) && len(s.offsets) < maxGramRunes; {
		s.offsets = append(s.offsets, i)
		_, size := utf8.DecodeRune(s.padded[i:])
		i += size
	}
	end := len(s.padded)
	if len(s.offsets) == maxGramRunes {
		// The word was cut: the last offset kept becomes the end.
		end = s.offsets[len(s.offsets)-1]
		s.offsets = s.offsets[:len(s.offsets)-1]
	}
	s.offsets = append(s.offsets, end)
	runes := len(s.offsets) - 1
	for n := 2; n <= 5; n++ {
		for i := 0; i+n <= runes; i++ {
			gram := s.padded[s.offsets[i]:s.offsets[i+n]]
			s.buckets = append(s.buckets, hashBytes(hashStart(kindChar), gram)%dim)
		}
	}
}

// countSorted returns the distinct buckets of a sorted bucket list with
// their occurrence counts.
func countSorted(buckets []uint32) sparseVector {
	v := sparseVector{
		index: make([]uint32, 0, len(buckets)),
		value: make([]float64, 0, len(buckets)),
	}
	for _, b := range buckets {
		n := len(v.index)
		if n > 0 && v.index[n-1] == b {
			v.value[n-1]++
			continue
		}
		v.index = append(v.index, b)
		v.value = append(v.value, 1)
	}
	return v
}

// countFeatures returns the raw feature counts of text.
func countFeatures(text string, dim uint32) sparseVector {
	var s featureScratch
	s.extract(text, dim)
	slices.Sort(s.buckets)
	return countSorted(s.buckets)
}

// countDistinct fills s.distinct and s.counts from s.buckets with a linear
// probing hash table. It replaced sorting the buckets, which took a third
// of Predict's time in a CPU profile of BenchmarkPredict.
func (s *featureScratch) countDistinct() {
	size := 64
	for size < 2*len(s.buckets) {
		size *= 2
	}
	if cap(s.slots) < size {
		s.slots = make([]int32, size)
	}
	s.slots = s.slots[:size]
	clear(s.slots)
	s.distinct, s.counts = s.distinct[:0], s.counts[:0]
	mask := uint32(size - 1)
	for _, b := range s.buckets {
		i := (b * 0x9e3779b1) & mask
		for {
			slot := s.slots[i]
			if slot == 0 {
				s.distinct = append(s.distinct, b)
				s.counts = append(s.counts, 1)
				s.slots[i] = int32(len(s.distinct))
				break
			}
			if s.distinct[slot-1] == b {
				s.counts[slot-1]++
				break
			}
			i = (i + 1) & mask
		}
	}
}
