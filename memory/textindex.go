package memory

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// maxTokenBytes caps an indexed Latin word; longer words are cut at a rune
// boundary, so a query for a longer word still matches by prefix.
const maxTokenBytes = 64

// minPrefixRunes is the length of the shortest query word matched as a
// prefix of indexed words. Shorter query words must match a whole word, so
// a prefix scan never starts from one or two letters.
const minPrefixRunes = 3

// queryTerm is one term of a text query.
type queryTerm struct {
	token  string
	prefix bool // matches every indexed token that starts with token
}

// isCJK reports whether r is written without spaces between words, so the
// index splits it into characters and character pairs instead of words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

func isWordRune(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) && !isCJK(r)
}

// runs splits text into runs of word runes and runs of CJK runes, dropping
// everything else. Words are lowercased.
func runs(text string) (words []string, cjk [][]rune) {
	var word strings.Builder
	var han []rune
	flush := func() {
		if word.Len() > 0 {
			words = append(words, word.String())
			word.Reset()
		}
		if len(han) > 0 {
			cjk = append(cjk, han)
			han = nil
		}
	}
	for _, r := range text {
		switch {
		case isCJK(r):
			if word.Len() > 0 {
				flush()
			}
			han = append(han, r)
		case isWordRune(r):
			if len(han) > 0 {
				flush()
			}
			word.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words, cjk
}

// indexTokens returns the distinct tokens of text for the index: Latin words
// of two or more runes, and every CJK character and pair of adjacent CJK
// characters.
func indexTokens(text string) []string {
	words, cjk := runs(text)
	seen := make(map[string]bool)
	var tokens []string
	add := func(token string) {
		if !seen[token] {
			seen[token] = true
			tokens = append(tokens, token)
		}
	}
	for _, w := range words {
		if len([]rune(w)) >= 2 {
			add(truncateToken(w))
		}
	}
	for _, run := range cjk {
		for i := range run {
			add(string(run[i]))
			if i+1 < len(run) {
				add(string(run[i : i+2]))
			}
		}
	}
	return tokens
}

// queryTerms returns the terms a conversation must all contain to match
// text: each Latin word of two or more runes (a prefix when it has at least
// minPrefixRunes), each pair of adjacent CJK characters, and a lone CJK
// character when its run has only one.
func queryTerms(text string) []queryTerm {
	words, cjk := runs(text)
	var terms []queryTerm
	for _, w := range words {
		n := len([]rune(w))
		if n < 2 {
			continue
		}
		terms = append(terms, queryTerm{token: truncateToken(w), prefix: n >= minPrefixRunes})
	}
	for _, run := range cjk {
		if len(run) == 1 {
			terms = append(terms, queryTerm{token: string(run)})
			continue
		}
		for i := 0; i+1 < len(run); i++ {
			terms = append(terms, queryTerm{token: string(run[i : i+2])})
		}
	}
	return terms
}

func truncateToken(w string) string {
	if len(w) <= maxTokenBytes {
		return w
	}
	cut := maxTokenBytes
	for cut > 0 && !utf8.RuneStart(w[cut]) {
		cut--
	}
	return w[:cut]
}

// textKey is the textindex key of a token in a user's conversation. Tokens
// contain no zero byte, so the zero byte ends the token.
func textKey(token, userID string) []byte {
	key := make([]byte, 0, len(token)+1+len(userID))
	key = append(key, token...)
	key = append(key, 0)
	return append(key, userID...)
}

// indexText adds the tokens of text to the user's token set and the shared
// text index.
func indexText(tx *bolt.Tx, conv *bolt.Bucket, userID, text string) error {
	tokens := conv.Bucket(bucketTokens)
	index := tx.Bucket(bucketTextIndex)
	for _, token := range indexTokens(text) {
		if tokens.Get([]byte(token)) != nil {
			continue
		}
		if err := tokens.Put([]byte(token), nil); err != nil {
			return err
		}
		if err := index.Put(textKey(token, userID), nil); err != nil {
			return err
		}
	}
	return nil
}

// unindexUser removes every text index entry of the user and empties the
// user's token set.
func unindexUser(tx *bolt.Tx, conv *bolt.Bucket, userID string) error {
	index := tx.Bucket(bucketTextIndex)
	err := conv.Bucket(bucketTokens).ForEach(func(token, _ []byte) error {
		return index.Delete(textKey(string(token), userID))
	})
	if err != nil {
		return err
	}
	if err := conv.DeleteBucket(bucketTokens); err != nil {
		return err
	}
	_, err = conv.CreateBucket(bucketTokens)
	return err
}

// matchText returns the ids of users whose conversation contains every term
// of text, or an empty set when text has no terms.
func matchText(tx *bolt.Tx, text string) map[string]bool {
	terms := queryTerms(text)
	if len(terms) == 0 {
		return map[string]bool{}
	}
	var result map[string]bool
	for _, term := range terms {
		users := termUsers(tx.Bucket(bucketTextIndex), term)
		if result == nil {
			result = users
			continue
		}
		for u := range result {
			if !users[u] {
				delete(result, u)
			}
		}
		if len(result) == 0 {
			break
		}
	}
	return result
}

// termUsers returns the users whose token set matches term.
//
// NOTE: a prefix term scans every indexed token that starts with it, so a
// common three-letter prefix can read many keys.
func termUsers(index *bolt.Bucket, term queryTerm) map[string]bool {
	users := make(map[string]bool)
	prefix := []byte(term.token)
	if !term.prefix {
		prefix = append(prefix, 0)
	}
	c := index.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		rest := k[len(term.token):]
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			continue
		}
		users[string(rest[end+1:])] = true
	}
	return users
}
