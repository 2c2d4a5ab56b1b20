package scenario

import (
	"testing"
	"time"
)

// shopperMessages are realistic shopper messages, written for this test and
// absent from configs/training, with the intent and emotion a support agent
// would assign.
var shopperMessages = []struct {
	name, text, intent, emotion string
}{
	{"boots_budget_en", "waterproof boots under $150", "product_search", "neutral"},
	{"laptop_student_en", "need a light laptop for uni, nothing too pricey", "product_search", "neutral"},
	{"headphones_en", "any noise cancelling headphones for flights?", "product_search", "neutral"},
	{"dress_wedding_en", "looking for a summer dress to wear to a wedding", "product_search", "neutral"},
	{"kettle_en", "do you sell electric kettles", "product_search", "neutral"},
	{"runner_size_en", "got these trail runners in a size 10?", "product_search", "neutral"},
	{"gift_mum_en", "birthday present ideas for my mum, she loves gardening", "gift", "neutral"},
	{"gift_boss_en", "what's a nice gift for my boss under 50 dollars", "gift", "neutral"},
	{"gift_excited_en", "can't wait to surprise my wife with something special for our anniversary!", "gift", "positive"},
	{"price_drop_en", "will this go on sale for black friday?", "price", "neutral"},
	{"coupon_en", "do you have a promo code for first orders", "price", "neutral"},
	{"compare_phones_en", "which is better, the pixel or the galaxy?", "comparison", "neutral"},
	{"compare_diff_en", "what's the difference between the pro and the regular model", "comparison", "neutral"},
	{"where_parcel_en", "where is my parcel? ordered last week", "order_status", "neutral"},
	{"late_worried_en", "my order still hasn't arrived and the party is on saturday, I'm really worried", "order_status", "anxious"},
	{"ship_time_en", "how long does shipping to germany take", "shipping", "neutral"},
	{"express_en", "can I get express delivery?", "shipping", "neutral"},
	{"return_en", "how do I send back a jacket that doesn't fit", "return_refund", "neutral"},
	{"refund_wait_en", "I returned the shoes two weeks ago and still no refund", "return_refund", "negative"},
	{"broken_angry_en", "the blender arrived broken, this is unacceptable!!", "complaint", "angry"},
	{"rude_angry_en", "worst customer service ever, nobody answers my emails", "complaint", "angry"},
	{"disappointed_en", "honestly a bit disappointed, the colour looks nothing like the photo", "complaint", "negative"},
	{"hello_en", "hiya, anyone around?", "greeting", "neutral"},
	{"thanks_en", "thanks so much, that's really helpful!", "chitchat", "positive"},
	{"agent_en", "can I speak to a human please", "human", "neutral"},
	{"weather_en", "what's the capital of australia", "oos", "neutral"},
	{"boots_budget_zh", "有没有150块以内的防水靴子", "product_search", "neutral"},
	{"phone_case_zh", "想买个iphone15的手机壳", "product_search", "neutral"},
	{"sofa_zh", "推荐一款适合小户型的沙发", "product_search", "neutral"},
	{"gift_gf_zh", "情人节送女朋友什么好呢", "gift", "neutral"},
	{"gift_parents_zh", "想给爸妈买个过年礼物，预算五百", "gift", "neutral"},
	{"discount_zh", "这个现在有优惠吗", "price", "neutral"},
	{"cheaper_zh", "可以少点吗", "price", "neutral"},
	{"compare_zh", "这两款耳机哪个音质更好", "comparison", "neutral"},
	{"logistics_zh", "我的包裹到哪了，三天了还没动", "order_status", "anxious"},
	{"ship_fee_zh", "寄到上海要运费吗", "shipping", "neutral"},
	{"refund_zh", "衣服太小了，怎么退货", "return_refund", "neutral"},
	{"fake_angry_zh", "你们卖假货！气死我了", "complaint", "angry"},
	{"slow_negative_zh", "质量一般，有点失望", "complaint", "negative"},
	{"urgent_anxious_zh", "明天就要用，今天能发货吗，好着急", "shipping", "anxious"},
	{"hello_zh", "有人在吗", "greeting", "neutral"},
	{"thanks_zh", "谢谢你，太贴心了", "chitchat", "positive"},
	{"human_zh", "帮我转接人工客服", "human", "neutral"},
	{"love_zh", "收到了，非常喜欢！", "chitchat", "positive"},
	{"sneakers_en", "white sneakers for men, size 9", "product_search", "neutral"},
	{"tent_en", "need a 4 person tent for camping next month", "product_search", "neutral"},
	{"gift_nephew_en", "my nephew turns 8, what toys are popular?", "gift", "neutral"},
	{"bundle_price_en", "is there a discount if I buy two?", "price", "neutral"},
	{"vs_en", "airpods pro vs sony xm5, which one should I get", "comparison", "neutral"},
	{"tracking_en", "tracking says delivered but I don't have it", "order_status", "anxious"},
	{"intl_ship_en", "do you deliver to japan?", "shipping", "neutral"},
	{"exchange_en", "can I swap this for a bigger size", "return_refund", "neutral"},
	{"scam_en", "you charged me twice and nobody is fixing it. furious.", "complaint", "angry"},
	{"bye_en", "perfect, thanks for the help!", "chitchat", "positive"},
	{"dress_zh", "有没有适合约会穿的连衣裙", "product_search", "neutral"},
	{"gift_teacher_zh", "教师节送老师什么好", "gift", "neutral"},
	{"coupon_zh", "有优惠券可以领吗", "price", "neutral"},
	{"where_zh", "快递怎么还没到，都一个星期了", "order_status", "negative"},
	{"broken_zh", "收到的杯子是碎的，太让人生气了", "complaint", "angry"},
	{"human2_zh", "我要找真人客服", "human", "neutral"},
}

// minShopperAccuracy is the share of shopperMessages the shipped models
// must label correctly, for intent and for emotion separately.
const minShopperAccuracy = 0.8

func TestShippedModelsOnShopperMessages(t *testing.T) {
	d := newTestDetector(t)
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	var intentOK, emotionOK int
	for _, m := range shopperMessages {
		s := d.Detect(Input{Now: now, Text: m.text})
		if s.Intent.Label == m.intent {
			intentOK++
		} else {
			t.Logf("%s: intent %s (%.2f), want %s", m.name, s.Intent.Label, s.Intent.Confidence, m.intent)
		}
		if s.Emotion.Label == m.emotion {
			emotionOK++
		} else {
			t.Logf("%s: emotion %s (%.2f), want %s", m.name, s.Emotion.Label, s.Emotion.Confidence, m.emotion)
		}
	}
	n := float64(len(shopperMessages))
	if got := float64(intentOK) / n; got < minShopperAccuracy {
		t.Errorf("intent accuracy = %.3f (%d of %.0f), want >= %.2f", got, intentOK, n, minShopperAccuracy)
	}
	if got := float64(emotionOK) / n; got < minShopperAccuracy {
		t.Errorf("emotion accuracy = %.3f (%d of %.0f), want >= %.2f", got, emotionOK, n, minShopperAccuracy)
	}
}
