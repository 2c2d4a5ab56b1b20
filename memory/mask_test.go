package memory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

func TestMaskPII(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Emails.
		{"email_plain", "mail li.wei@example.com please", "mail [email] please"},
		{"email_plus_and_subdomains", "Li.Wei+shop@mail.example.co.uk", "[email]"},
		{"email_before_chinese", "邮箱li_wei@163.com谢谢", "邮箱[email]谢谢"},
		{"two_emails", "a@b.io, c@d.io", "[email], [email]"},

		// Chinese mobiles.
		{"mobile_plain", "call 13800138000", "call [phone]"},
		{"mobile_glued_to_chinese", "电话13800138000是我的", "电话[phone]是我的"},
		{"mobile_country_code_spaces", "+86 138 0013 8000", "[phone]"},
		{"mobile_country_code_dashes", "+86-138-0013-8000", "[phone]"},
		{"mobile_0086", "0086 13800138000", "[phone]"},
		{"mobile_dashes", "138-0013-8000", "[phone]"},
		{"mobile_full_width", "电话：１３８００１３８０００", "电话：[phone]"},
		{"mobile_full_width_plus", "＋８６ １３８ ００１３ ８０００", "[phone]"},

		// Landlines and international numbers.
		{"landline_beijing", "010-12345678", "[phone]"},
		{"landline_spaces", "0571 8888 6666", "[phone]"},
		{"international_uk", "+44 20 7946 0958", "[phone]"},
		{"international_us_plain", "+1 415 555 2671", "[phone]"},
		{"international_us_brackets", "+1 (415) 555-2671", "[phone]"},
		{"us_brackets_no_plus", "call (415) 555-2671 today", "call [phone] today"},

		// Payment cards.
		{"card_luhn_valid", "card 4111 1111 1111 1111", "card [card]"},
		{"card_luhn_valid_dashes", "5500-0055-5555-5559", "[card]"},
		{"card_luhn_valid_plain", "4111111111111111", "[card]"},
		{"sixteen_digits_luhn_invalid", "4111111111111112", "4111111111111112"},
		{"sixteen_digits_luhn_invalid_spaced", "4111 1111 1111 1112", "4111 1111 1111 1112"},

		// Chinese resident id numbers.
		{"resident_id_valid_x", "身份证11010519491231002X", "身份证[id]"},
		{"resident_id_valid_lower_x", "11010519491231002x", "[id]"},
		{"resident_id_valid_digit", "id 440306199003071232", "id [id]"},
		{"resident_id_bad_check_digit", "110105194912310021", "110105194912310021"},
		{"resident_id_bad_check_digit_2", "440306199003071233", "440306199003071233"},

		// Prices that look like phone numbers stay.
		{"price_yuan_sign", "¥13800138000", "¥13800138000"},
		{"price_full_width_yuan_sign", "￥13800138000", "￥13800138000"},
		{"price_yuan_unit", "13800138000元", "13800138000元"},
		{"price_unit_after_space", "13800138000 RMB", "13800138000 RMB"},
		{"price_dollar_grouped", "$1,380,013,800", "$1,380,013,800"},
		{"price_decimal", "13800138000.50", "13800138000.50"},
		{"price_sign_then_space", "¥ 13800138000", "¥ 13800138000"},

		// Order numbers and codes glued to letters stay.
		{"order_letters_before", "订单号SO13800138000", "订单号SO13800138000"},
		{"order_letters_after", "tracking 13800138000CN", "tracking 13800138000CN"},
		{"sku", "SKU4111111111111111", "SKU4111111111111111"},

		// Ordinary numbers stay.
		{"date", "2026-12-04", "2026-12-04"},
		{"quantity", "I want 2 pairs in size 42", "I want 2 pairs in size 42"},
		{"short_code", "code 123456", "code 123456"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := memory.MaskPII(tc.in); got != tc.want {
				t.Errorf("MaskPII(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskPIIIsIdempotent(t *testing.T) {
	in := "call +86 138 0013 8000 or mail a@b.io, card 4111 1111 1111 1111"
	once := memory.MaskPII(in)
	if twice := memory.MaskPII(once); twice != once {
		t.Errorf("masking twice changed %q to %q", once, twice)
	}
}

func TestMaskStoredTranscript(t *testing.T) {
	store := memtest.OpenOptions(t, memory.Options{MaskStored: memory.MaskPII})
	ctx := context.Background()
	if _, _, err := store.AppendUserMessage(ctx, "u1", "m1", "my phone is 13800138000, mail li@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AppendReply(ctx, "u1", memory.RoleAgent, "I will call 13800138000", nil); err != nil {
		t.Fatal(err)
	}
	_, msgs, _, err := store.Transcript(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Text, "13800138000") || strings.Contains(m.Text, "li@example.com") {
			t.Errorf("stored %s message %q is not masked", m.Role, m.Text)
		}
	}
	if got := msgs[0].Text; got != "my phone is [phone], mail [email]" {
		t.Errorf("stored text = %q", got)
	}
	list, _, err := store.Conversations(ctx, memory.ConversationQuery{Text: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Error("text search finds the masked phone number")
	}
}
