package scenario

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestReadExamples(t *testing.T) {
	tests := []struct {
		name, format, input, textCol, labelCol string
		want                                   []Example
		wantErr                                bool
	}{
		{name: "jsonl_default_keys", format: "jsonl",
			input: "{\"text\":\"hi\",\"label\":\"greeting\"}\n\n{\"text\":\"你好\",\"label\":\"greeting\"}\n",
			want:  []Example{{"hi", "greeting"}, {"你好", "greeting"}}},
		{name: "jsonl_custom_keys", format: "jsonl", textCol: "q", labelCol: "y",
			input: `{"q":"where is it","y":"order_status"}`,
			want:  []Example{{"where is it", "order_status"}}},
		{name: "jsonl_missing_key", format: "jsonl", input: `{"text":"x"}`, wantErr: true},
		{name: "jsonl_broken", format: "jsonl", input: `{"text":`, wantErr: true},
		{name: "csv_named_columns", format: "csv", textCol: "text", labelCol: "category",
			input: "category,text\ncard_arrival,\"where is my card, please\"\n,skipped\n",
			want:  []Example{{"where is my card, please", "card_arrival"}}},
		{name: "csv_missing_column", format: "csv", textCol: "text", labelCol: "intent",
			input: "text,category\na,b\n", wantErr: true},
		{name: "tsv", format: "tsv", input: "text\tlabel\nhello there\tgreeting\n",
			want: []Example{{"hello there", "greeting"}}},
		{name: "unknown_format", format: "xml", input: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadExamples(strings.NewReader(tc.input), tc.format, tc.textCol, tc.labelCol)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ReadExamples(%q) = %v, want an error", tc.input, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadExamples(%q): %v", tc.input, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ReadExamples(%q) = %v, want %v", tc.input, got, tc.want)
			}
		})
	}
}

func TestReadExamplesUnknownFormatError(t *testing.T) {
	_, err := ReadExamples(strings.NewReader(""), "xml", "", "")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("error = %v, want ErrUnknownFormat", err)
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{name: "latin_words", text: "don't stop, me now", want: []string{"don't", "stop", "me", "now"}},
		{name: "cjk_characters", text: "我要退货", want: []string{"我", "要", "退", "货"}},
		{name: "mixed_with_emoji", text: "iphone15手机壳🎁", want: []string{"iphone15", "手", "机", "壳", "🎁"}},
		{name: "fullwidth_folded", text: normalizeText("ＡＢＣ　１２"), want: []string{"abc", "12"}},
		{name: "punctuation_only", text: "?!...", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tokenize(tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("tokenize(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestVectorizeNormalised(t *testing.T) {
	c := &Classifier{dim: 1 << 12}
	v := c.learnVocabulary([]Example{{"Where is my order? 我的订单", "order_status"}})[0]
	var sum float64
	for _, x := range v.values {
		sum += x * x
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("squared norm = %v, want 1", sum)
	}
	if len(slices.Compact(slices.Clone(v.rows))) != len(v.rows) {
		t.Errorf("rows repeat: %v", v.rows)
	}
}

// toyExamples returns a small, separable three-class set with an oos class.
func toyExamples() []Example {
	var ex []Example
	for i := range 20 {
		ex = append(ex,
			Example{fmt.Sprintf("where is my order number %d", i), "order_status"},
			Example{fmt.Sprintf("订单%d到哪了", i), "order_status"},
			Example{fmt.Sprintf("show me red shoes size %d", 30+i), "product_search"},
			Example{fmt.Sprintf("有没有%d码的鞋子", 30+i), "product_search"},
			Example{fmt.Sprintf("what is %d plus %d", i, i+1), "oos"},
		)
	}
	return ex
}

func TestTrainClassifierPredicts(t *testing.T) {
	c, err := TrainClassifier(toyExamples(), ClassifierOptions{Dim: 1 << 12, OOSThreshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Labels(), []string{"oos", "order_status", "product_search"}; !slices.Equal(got, want) {
		t.Errorf("Labels() = %v, want %v", got, want)
	}
	tests := []struct {
		name, text, want string
	}{
		{name: "english_order", text: "where is my order", want: "order_status"},
		{name: "chinese_order", text: "我的订单到哪了", want: "order_status"},
		{name: "english_search", text: "red shoes please", want: "product_search"},
		{name: "chinese_search", text: "鞋子有吗", want: "product_search"},
		{name: "empty_text", text: "  ", want: "oos"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Predict(tc.text)
			if got.Label != tc.want {
				t.Errorf("Predict(%q) = %+v, want label %s", tc.text, got, tc.want)
			}
			if got.Confidence < 0 || got.Confidence > 1 {
				t.Errorf("Predict(%q) confidence = %v, want within [0, 1]", tc.text, got.Confidence)
			}
		})
	}
}

func TestProbabilitiesSumToOne(t *testing.T) {
	c, err := TrainClassifier(toyExamples(), ClassifierOptions{Dim: 1 << 12, OOSThreshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Probabilities("where are my shoes")
	var sum float64
	for _, x := range p {
		sum += x
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("sum of probabilities = %v, want 1", sum)
	}
}

func TestThresholdRejects(t *testing.T) {
	c, err := TrainClassifier(toyExamples(), ClassifierOptions{Dim: 1 << 12, OOSThreshold: 0.999})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Predict("shoes order")
	if got.Label != "oos" {
		t.Errorf("Predict with threshold 0.999 = %+v, want oos", got)
	}
}

func TestThresholdTunedWithOOS(t *testing.T) {
	c, err := TrainClassifier(toyExamples(), ClassifierOptions{Dim: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	if th := c.Threshold(); th < 0 || th > 0.95 {
		t.Errorf("Threshold() = %v, want within [0, 0.95]", th)
	}
	noOOS := slices.DeleteFunc(toyExamples(), func(e Example) bool { return e.Label == "oos" })
	c, err = TrainClassifier(noOOS, ClassifierOptions{Dim: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	if th := c.Threshold(); th != 0 {
		t.Errorf("Threshold() without oos examples = %v, want 0", th)
	}
}

func TestTrainClassifierErrors(t *testing.T) {
	tests := []struct {
		name     string
		examples []Example
	}{
		{name: "no_examples", examples: nil},
		{name: "one_label", examples: []Example{{"a", "x"}, {"b", "x"}}},
		{name: "empty_label", examples: []Example{{"a", "x"}, {"b", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := TrainClassifier(tc.examples, ClassifierOptions{}); err == nil {
				t.Errorf("TrainClassifier(%v) succeeded, want an error", tc.examples)
			}
		})
	}
}

func TestEvalClassifyOutput(t *testing.T) {
	train := toyExamples()
	test := []Example{
		{"where is my order 77", "order_status"},
		{"有没有44码的鞋子", "product_search"},
		{"what is 3 plus 4", "oos"},
	}
	var out strings.Builder
	rep, err := EvalClassify(train, test, ClassifierOptions{Dim: 1 << 12}, &out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	want := fmt.Sprintf("accuracy=%.4f macro_f1=%.4f oos_recall=%.4f", rep.Accuracy, rep.MacroF1, rep.OOSRecall)
	if last != want {
		t.Errorf("last line = %q, want %q", last, want)
	}
	if !rep.HasOOS || rep.N != 3 {
		t.Errorf("report HasOOS=%v N=%d, want true and 3", rep.HasOOS, rep.N)
	}
	if rep.Accuracy != 1 {
		t.Errorf("accuracy = %v, want 1 on two easy in-scope examples", rep.Accuracy)
	}
}

func TestAccuracyExcludesOOS(t *testing.T) {
	test := []Example{{"a", "x"}, {"b", "y"}, {"c", "oos"}, {"d", "oos"}}
	predicted := []string{"x", "x", "oos", "y"}
	acc, recall, hasOOS := accuracyAndOOSRecall(test, predicted, "oos")
	if acc != 0.5 || recall != 0.5 || !hasOOS {
		t.Errorf("accuracyAndOOSRecall = %v, %v, %v, want 0.5, 0.5, true", acc, recall, hasOOS)
	}
}

func TestShippedIntentModel(t *testing.T) {
	d := newTestDetector(t)
	tests := []struct {
		name, text, want string
	}{
		{name: "gift_en", text: "what should I buy my dad for his birthday", want: "gift"},
		{name: "gift_zh", text: "送女朋友什么礼物好", want: "gift"},
		{name: "order_zh", text: "我的快递到哪了", want: "order_status"},
		{name: "human_en", text: "let me talk to a real person", want: "human"},
		{name: "refund_zh", text: "我想退款", want: "return_refund"},
		{name: "price_en", text: "is there any discount on this", want: "price"},
		{name: "greeting_zh", text: "您好", want: "greeting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.intent.Predict(tc.text); got.Label != tc.want {
				t.Errorf("intent of %q = %+v, want %s", tc.text, got, tc.want)
			}
		})
	}
}

func TestShippedEmotionModel(t *testing.T) {
	d := newTestDetector(t)
	tests := []struct {
		name, text, want string
	}{
		{name: "angry_en", text: "this is a scam, I'm furious!!", want: "angry"},
		{name: "positive_zh", text: "太喜欢了 谢谢", want: "positive"},
		{name: "anxious_en", text: "I'm worried it won't arrive in time", want: "anxious"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.emotion.Predict(tc.text); got.Label != tc.want {
				t.Errorf("emotion of %q = %+v, want %s", tc.text, got, tc.want)
			}
		})
	}
}

func BenchmarkTrain(b *testing.B) {
	base := readTrainingFile(b, "intent.jsonl")
	for _, n := range []int{1000, 15000} {
		examples := make([]Example, 0, n)
		for i := 0; len(examples) < n; i++ {
			ex := base[i%len(base)]
			examples = append(examples, Example{Text: fmt.Sprintf("%s %d", ex.Text, i/len(base)), Label: ex.Label})
		}
		b.Run(fmt.Sprintf("examples=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := TrainClassifier(examples, ClassifierOptions{OOSThreshold: -1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPredict(b *testing.B) {
	c, err := TrainClassifier(readTrainingFile(b, "intent.jsonl"), ClassifierOptions{OOSThreshold: -1})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, text string }{
		{"en", "do you have waterproof running shoes in size 42 under $100?"},
		{"zh", "有没有42码的防水跑鞋，一百块以内的"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Predict(tc.text)
			}
		})
	}
}
