package llm

import "unicode"

// EstimateTokens returns a rough token count for text, used when a provider
// does not report usage: one token per Han, Hiragana, Katakana or Hangul
// character and one per four other non-space characters, rounded up. It is
// an estimate, not a tokenizer.
func EstimateTokens(text string) int {
	cjk, other := 0, 0
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r),
			unicode.Is(unicode.Katakana, r), unicode.Is(unicode.Hangul, r):
			cjk++
		case unicode.IsSpace(r):
		default:
			other++
		}
	}
	return cjk + (other+3)/4
}

// messageOverheadTokens is the estimated cost of the role and separators
// that chat templates add around each message.
const messageOverheadTokens = 4

// estimatePromptTokens estimates the prompt size of msgs.
func estimatePromptTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += messageOverheadTokens + EstimateTokens(m.Content)
	}
	return n
}
