package scenario

import (
	"fmt"
	"strings"
	"time"
)

// Scenario labels, in the order label tries them.
const (
	LabelHumanHandoff     = "human_handoff"
	LabelComplaint        = "complaint"
	LabelAfterSales       = "after_sales"
	LabelUrgentNeed       = "urgent_need"
	LabelGiftShopping     = "gift_shopping"
	LabelComparison       = "comparison"
	LabelBargainHunting   = "bargain_hunting"
	LabelFestivalShopping = "festival_shopping"
	LabelBrowsing         = "browsing"
)

// angryThreshold is the emotion probability from which an angry message is
// treated as a complaint whatever its intent.
const angryThreshold = 0.5

// urgentIntents are the intents for which an urgency cue or anxiety makes
// the turn an urgent need. "What's the weather today" (chitchat) is not
// one.
var urgentIntents = map[string]bool{
	"product_search": true, "gift": true, "price": true, "comparison": true, "shipping": true,
}

// urgencyCues are lower-case phrases that mark a time-critical need. Latin
// cues match whole words only, so "express" does not match "expressive".
var urgencyCues = []string{
	"urgent", "asap", "right now", "today", "tonight", "tomorrow", "hurry",
	"same day", "same-day", "next day", "next-day", "express", "quickly",
	"急", "马上", "今天", "明天", "尽快", "赶紧", "立刻", "当天", "次日", "加急",
}

// giftFestivals are festivals whose lead-up turns a product search into
// gift shopping.
var giftFestivals = map[string]bool{
	"valentines_day": true, "qixi": true, "mothers_day": true,
	"fathers_day": true, "christmas": true,
}

// label picks the scenario label of s by the first matching rule and
// returns it with reasons, each one fact a support agent can check.
func label(s Scenario, text, zoneName string, reasons []string) (string, []string) {
	intent := s.Intent.Label
	reasons = append(reasons, contextReasons(s, zoneName)...)
	if intent != "" {
		reasons = append(reasons, fmt.Sprintf("intent %s (%.2f)", intent, s.Intent.Confidence))
	}
	if e := s.Emotion.Label; e != "" && e != EmotionNeutral && e != EmotionUnknown {
		reasons = append(reasons, fmt.Sprintf("emotion %s (%.2f)", e, s.Emotion.Confidence))
	}
	urgent := ""
	if urgentIntents[intent] {
		urgent = urgencyCue(text)
	}
	if urgent != "" {
		reasons = append(reasons, fmt.Sprintf("urgency cue %q", urgent))
	}
	angry := s.Emotion.Label == "angry" && s.Emotion.Confidence >= angryThreshold
	giftSeason := s.Festival != nil && giftFestivals[s.Festival.ID]

	switch {
	case intent == "human":
		return LabelHumanHandoff, reasons
	case intent == "complaint" || angry:
		return LabelComplaint, reasons
	case intent == "order_status" || intent == "return_refund":
		return LabelAfterSales, reasons
	case intent == "shipping" && urgent == "" && s.Behavior.Purchases > 0:
		return LabelAfterSales, reasons
	case urgent != "" || (s.Emotion.Label == "anxious" && (intent == "product_search" || intent == "shipping")):
		return LabelUrgentNeed, reasons
	case intent == "gift" || (giftSeason && intent == "product_search"):
		return LabelGiftShopping, reasons
	case intent == "comparison":
		return LabelComparison, reasons
	case intent == "price" || s.Behavior.AbandonedCart || strings.Contains(s.Segment, "bargain"):
		return LabelBargainHunting, reasons
	case s.Festival != nil:
		return LabelFestivalShopping, reasons
	default:
		return LabelBrowsing, reasons
	}
}

// contextReasons describes the time, festival, page, cart and segment
// facts of s.
func contextReasons(s Scenario, zoneName string) []string {
	reasons := []string{fmt.Sprintf("%s in %s", s.TimeOfDay, zoneName)}
	if f := s.Festival; f != nil {
		switch f.DaysLeft {
		case 0:
			reasons = append(reasons, f.Name+" today")
		case 1:
			reasons = append(reasons, f.Name+" tomorrow")
		default:
			reasons = append(reasons, fmt.Sprintf("%s in %d days", f.Name, f.DaysLeft))
		}
	}
	b := s.Behavior
	if b.AbandonedCart {
		if days := int(b.SinceLastVisit / (24 * time.Hour)); days > 0 {
			reasons = append(reasons, fmt.Sprintf("cart abandoned %d days ago", days))
		} else {
			reasons = append(reasons, "cart abandoned")
		}
	}
	if b.Returning {
		reasons = append(reasons, fmt.Sprintf("returning visitor, %d purchases", b.Purchases))
	}
	if s.PageKind != "" {
		reasons = append(reasons, "on "+s.PageKind+" page")
	}
	if s.Segment != "" {
		reasons = append(reasons, "segment "+s.Segment)
	}
	return reasons
}

// urgencyCue returns the first urgency phrase in text, or "".
func urgencyCue(text string) string {
	lower := strings.ToLower(text)
	for _, cue := range urgencyCues {
		if containsCue(lower, cue) {
			return cue
		}
	}
	return ""
}

// containsCue reports whether cue occurs in text. A cue that starts or
// ends with an ASCII letter must not touch another ASCII letter there.
func containsCue(text, cue string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], cue)
		if i < 0 {
			return false
		}
		start := from + i
		end := start + len(cue)
		before := start > 0 && isASCIILetter(text[start-1]) && isASCIILetter(cue[0])
		after := end < len(text) && isASCIILetter(text[end]) && isASCIILetter(cue[len(cue)-1])
		if !before && !after {
			return true
		}
		from = start + 1
	}
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
