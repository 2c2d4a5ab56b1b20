package llm

import (
	"fmt"
	"strings"
)

// phrases holds the wording of offline replies in one language.
type phrases struct {
	zh          bool
	sentenceSep string
	askNeed     []string
	listIntro   []string
	giftIntro   []string
}

var (
	englishPhrases = &phrases{
		sentenceSep: " ",
		askNeed: []string{
			"What are you shopping for today?",
			"Tell me what you're looking for and I'll find a few good options.",
			"Looking for something in particular? A budget helps me narrow it down.",
		},
		listIntro: []string{
			"Here are some good matches:",
			"These look like a good fit:",
			"Here's what I found:",
		},
		giftIntro: []string{
			"Here are some gift ideas:",
			"These would make good gifts:",
		},
	}
	chinesePhrases = &phrases{
		zh:          true,
		sentenceSep: "",
		askNeed: []string{
			"今天想看点什么？",
			"告诉我您想找什么，我来帮您挑几款。",
			"有想买的东西吗？说个预算我能挑得更准。",
		},
		listIntro: []string{
			"为您找到这些：",
			"这几款比较合适：",
			"推荐您看看：",
		},
		giftIntro: []string{
			"这几款适合送礼：",
			"送礼可以考虑这些：",
		},
	}
)

func phrasesFor(lang string) *phrases {
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return chinesePhrases
	}
	return englishPhrases
}

// empathy returns the acknowledgement that opens a reply to an upset user,
// or "" for other emotions.
func (p *phrases) empathy(emotion string) string {
	switch emotion {
	case "angry":
		if p.zh {
			return "非常抱歉给您带来不好的体验，我们马上一起解决。"
		}
		return "I'm really sorry about this, and I want to put it right."
	case "anxious":
		if p.zh {
			return "别着急，我来帮您尽快处理。"
		}
		return "Don't worry, I'll help you sort this out quickly."
	case "negative":
		if p.zh {
			return "很抱歉听到这个情况。"
		}
		return "Sorry to hear that."
	}
	return ""
}

// greeting greets by time of day, by name when known, and welcomes a
// returning user back.
func (p *phrases) greeting(f Facts) string {
	var hello string
	if p.zh {
		hello = map[string]string{
			"morning": "早上好", "afternoon": "下午好", "evening": "晚上好", "night": "夜深了，您好",
		}[f.TimeOfDay]
		if hello == "" {
			hello = "您好"
		}
		if f.Name != "" {
			hello += "，" + f.Name
		}
		if f.Returning {
			return hello + "！欢迎回来。"
		}
		return hello + "！"
	}

	hello = map[string]string{
		"morning": "Good morning", "afternoon": "Good afternoon", "evening": "Good evening", "night": "Hello",
	}[f.TimeOfDay]
	if hello == "" {
		hello = "Hello"
	}
	if f.Name != "" {
		hello += ", " + f.Name
	}
	if f.Returning {
		return hello + ", and welcome back!"
	}
	return hello + "!"
}

// festival mentions a festival within festivalWindowDays, or returns "".
func (p *phrases) festival(f Facts) string {
	d := f.FestivalDaysLeft
	if f.Festival == "" || d < 0 || d > festivalWindowDays {
		return ""
	}
	if p.zh {
		switch d {
		case 0:
			return "今天是" + f.Festival + "，祝您节日快乐！"
		case 1:
			return "明天就是" + f.Festival + "了，现在准备正是时候。"
		}
		return fmt.Sprintf("距离%s还有%d天，现在准备正是时候。", f.Festival, d)
	}
	switch d {
	case 0:
		return "Happy " + f.Festival + "!"
	case 1:
		return f.Festival + " is tomorrow, so now is a good time to get ready."
	}
	return fmt.Sprintf("%s is %d days away, so now is a good time to get ready.", f.Festival, d)
}

// service returns the reply for intents that products do not help with.
func (p *phrases) service(intent, emotion string) string {
	apology := emotion != "angry" && emotion != "negative" && emotion != "anxious"
	if p.zh {
		switch intent {
		case "order_status":
			return "我这里查不到实时订单信息。请把订单号发给我，我请客服同事帮您查询。"
		case "shipping":
			return "配送时间取决于收货地址和商品，一般下单后会在页面显示预计送达时间。需要的话我可以请客服同事帮您确认。"
		case "return_refund":
			return p.apologise(apology, "退换货和退款需要客服同事处理。请提供订单号，我这就为您转接人工客服。")
		case "complaint":
			return p.apologise(apology, "您的反馈我们非常重视。我可以马上为您转接人工客服，请问需要吗？")
		case "human":
			return "好的，正在为您转接人工客服，工作人员很快会加入对话。"
		case "oos":
			return "这个问题我暂时帮不上忙。我可以帮您找商品、比较价格、挑礼物或查看优惠。"
		}
		return "很高兴和您聊天！想找什么商品的话，告诉我类别和预算就行。"
	}
	switch intent {
	case "order_status":
		return "I can't see live order details here. Send me your order number and I'll ask a staff member to check it for you."
	case "shipping":
		return "Delivery time depends on your address and the item, and the estimate shows at checkout. I can ask a staff member to confirm it if you like."
	case "return_refund":
		return p.apologise(apology, "Returns and refunds are handled by our staff. Share your order number and I'll connect you with a staff member now.")
	case "complaint":
		return p.apologise(apology, "Your feedback matters to us. Would you like me to connect you with a staff member right away?")
	case "human":
		return "Sure, I'm connecting you now. A staff member will join this chat shortly."
	case "oos":
		return "I can't help with that one, but I can find products, compare prices, suggest gifts and check current offers."
	}
	return "Happy to chat! If you're looking for something, tell me the category and your budget."
}

// apologise prefixes text with an apology unless the empathy line already
// gave one.
func (p *phrases) apologise(needed bool, text string) string {
	if !needed {
		return text
	}
	if p.zh {
		return "很抱歉给您添麻烦了。" + text
	}
	return "I'm sorry for the trouble. " + text
}

// noMatch returns the reply when nothing was found, asking for more detail.
func (p *phrases) noMatch(f Facts) string {
	if p.zh {
		if f.FilterDesc != "" {
			return "没有找到" + f.FilterDesc + "的商品。可以放宽预算或换个类别试试吗？"
		}
		return "暂时没有找到合适的商品。能告诉我更多细节吗，比如类别、品牌或预算？"
	}
	if f.FilterDesc != "" {
		return "I couldn't find anything " + f.FilterDesc + ". Could you widen the budget or try another category?"
	}
	return "I couldn't find a good match yet. Could you tell me more, such as the category, brand or budget?"
}

// productList names the best products with their prices, saying first when
// they are only the nearest matches to a filter.
func (p *phrases) productList(f Facts, pick func(int) int) string {
	var b strings.Builder
	b.WriteString("\n")
	switch {
	case f.Relaxed && p.zh && f.FilterDesc != "":
		b.WriteString("没有完全符合" + f.FilterDesc + "的商品，以下是最接近的：")
	case f.Relaxed && p.zh:
		b.WriteString("没有完全符合条件的商品，以下是最接近的：")
	case f.Relaxed && f.FilterDesc != "":
		b.WriteString("Nothing matched " + f.FilterDesc + " exactly, so here are the closest options:")
	case f.Relaxed:
		b.WriteString("Nothing matched exactly, so here are the closest options:")
	case f.Intent == "gift":
		b.WriteString(p.giftIntro[pick(len(p.giftIntro))])
	default:
		b.WriteString(p.listIntro[pick(len(p.listIntro))])
	}

	for i, pr := range namedProducts(f.Products) {
		b.WriteString("\n")
		b.WriteString(p.productLine(i+1, pr))
	}
	if f.Intent == "comparison" {
		if lo, hi, ok := cheaperOfTwo(f.Products); ok {
			b.WriteString("\n")
			b.WriteString(p.comparison(lo, hi))
		}
	}
	return b.String()
}

func (p *phrases) productLine(n int, pr ProductFact) string {
	price := FormatPrice(pr.Price, pr.Currency)
	onSale := pr.CompareAtPrice > pr.Price
	if p.zh {
		line := fmt.Sprintf("%d. %s，%s", n, pr.Title, price)
		if onSale {
			line += "（原价" + FormatPrice(pr.CompareAtPrice, pr.Currency) + "）"
		}
		if !pr.InStock {
			line += "，暂时缺货"
		}
		return line
	}
	line := fmt.Sprintf("%d. %s, %s", n, pr.Title, price)
	if onSale {
		line += " (was " + FormatPrice(pr.CompareAtPrice, pr.Currency) + ")"
	}
	if !pr.InStock {
		line += ", currently out of stock"
	}
	return line
}

// comparison states which of two products costs less and by how much.
func (p *phrases) comparison(lo, hi ProductFact) string {
	diff := FormatPrice(hi.Price-lo.Price, lo.Currency)
	if p.zh {
		return fmt.Sprintf("%s比%s便宜%s。", lo.Title, hi.Title, diff)
	}
	return fmt.Sprintf("The %s costs %s less than the %s.", lo.Title, diff, hi.Title)
}

// offer presents the chosen offer with its code.
func (p *phrases) offer(o OfferFact) string {
	if p.zh {
		s := "\n优惠：" + endSentence(o.Title, true)
		if o.Copy != "" {
			s += endSentence(o.Copy, true)
		}
		if o.Code != "" {
			s += "优惠码：" + o.Code + "。"
		}
		return s
	}
	s := "\nOffer: " + endSentence(o.Title, false)
	if o.Copy != "" {
		s += " " + endSentence(o.Copy, false)
	}
	if o.Code != "" {
		s += " Code: " + o.Code + "."
	}
	return s
}
