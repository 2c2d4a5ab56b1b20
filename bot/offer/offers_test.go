package offer

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const validOffer = `
offers:
  - id: singles_day
    title: {en: "Singles' Day", zh: 双十一}
    copy: {en: 20% off, zh: 全场8折}
    kind: percentage
    value: 20
    code: DOUBLE11
    start: "2026-11-01 00:00"
    end: "2026-11-12"
    timezone: Asia/Shanghai
    eligibility:
      scenarios: [festival_shopping]
      new_user: false
      min_cart: 50
    priority: 80
    cap_per_user: 2
    budget: 100
`

func TestParseOffersValid(t *testing.T) {
	offers, err := ParseOffers([]byte(validOffer))
	if err != nil {
		t.Fatalf("ParseOffers: %v", err)
	}
	if len(offers) != 1 {
		t.Fatalf("got %d offers, expected 1", len(offers))
	}
	o := offers[0]
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	if want := time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai); !o.Start.Equal(want) {
		t.Errorf("Start = %v, expected %v", o.Start, want)
	}
	if want := time.Date(2026, 11, 13, 0, 0, 0, 0, shanghai); !o.End.Equal(want) {
		t.Errorf("End = %v, expected %v (a bare end date includes the day)", o.End, want)
	}
	if o.Eligibility.NewUser == nil || *o.Eligibility.NewUser {
		t.Errorf("NewUser = %v, expected pointer to false", o.Eligibility.NewUser)
	}
	if o.Kind != KindPercentage || o.Value != 20 || o.Priority != 80 || o.CapPerUser != 2 || o.Budget != 100 {
		t.Errorf("offer = %+v, fields not decoded", o)
	}
	if o.Eligibility.MinCart != 50 {
		t.Errorf("MinCart = %g, expected 50", o.Eligibility.MinCart)
	}
}

func TestParseOffersInvalid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string // substrings, one per expected error
	}{
		{
			name:  "unknown_key",
			yaml:  "offers:\n  - id: a\n    titel: {en: x}\n",
			wants: []string{"titel"},
		},
		{
			name: "every_field_reported",
			yaml: `offers:
  - id: bad
    title: {fr: x}
    kind: half_off
    start: "1 Nov"
    timezone: Mars/Base
    cap_per_user: -1
    budget: -5
    eligibility:
      scenarios: [shopping_spree]
      intents: [buy]
      devices: [watch]
      page_kinds: [search]
      countries: [china]
      min_cart: -1
`,
			wants: []string{
				"offer bad: title.fr: unsupported language",
				"offer bad: kind: invalid kind \"half_off\"",
				"offer bad: timezone: unknown zone \"Mars/Base\"",
				"offer bad: cap_per_user: invalid value -1",
				"offer bad: budget: invalid value -5",
				"offer bad: eligibility.scenarios: unknown value \"shopping_spree\"",
				"offer bad: eligibility.intents: unknown value \"buy\"",
				"offer bad: eligibility.devices: unknown value \"watch\"",
				"offer bad: eligibility.page_kinds: unknown value \"search\"",
				"offer bad: eligibility.countries: invalid code \"china\"",
				"offer bad: eligibility.min_cart: invalid amount -1",
			},
		},
		{
			name: "window_and_value",
			yaml: `offers:
  - id: w
    title: {en: x}
    copy: {zh: y}
    kind: percentage
    value: 150
    start: "2026-11-12"
    end: "2026-11-01"
`,
			wants: []string{
				"offer w: value: invalid percentage 150",
				"offer w: end: \"2026-11-01\" is not after start",
				"offer w: copy.zh: no title in that language",
			},
		},
		{
			name: "ids",
			yaml: `offers:
  - id: same
    title: {en: x}
    kind: gift
  - id: same
    title: {en: y}
    kind: gift
  - id: "Bad Id"
    title: {en: z}
    kind: gift
  - title: {}
    kind: gift
`,
			wants: []string{
				"offer same: id: duplicate id",
				"offer Bad Id: id: invalid id",
				"offer #4: id: invalid id \"\"",
				"offer #4: title: missing",
			},
		},
		{
			name:  "bad_time",
			yaml:  "offers:\n  - id: t\n    title: {en: x}\n    kind: gift\n    end: \"2026/11/12\"\n",
			wants: []string{"offer t: end: invalid time \"2026/11/12\""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOffers([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseOffers succeeded, expected errors %q", tt.wants)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestParseOffersErrorWrapsSentinel(t *testing.T) {
	_, err := ParseOffers([]byte("offers:\n  - id: x\n    title: {en: x}\n    kind: nope\n"))
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error %v does not wrap ErrInvalidConfig", err)
	}
}

func TestOfferActiveInZone(t *testing.T) {
	offers, err := ParseOffers([]byte(validOffer))
	if err != nil {
		t.Fatalf("ParseOffers: %v", err)
	}
	o := offers[0]
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"minute_before_start", time.Date(2026, 10, 31, 23, 59, 0, 0, shanghai), false},
		{"at_start", time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai), true},
		{"start_as_utc", time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC), true},
		{"utc_day_before_start_in_zone", time.Date(2026, 10, 31, 15, 59, 0, 0, time.UTC), false},
		{"last_minute", time.Date(2026, 11, 12, 23, 59, 0, 0, shanghai), true},
		{"at_end", time.Date(2026, 11, 13, 0, 0, 0, 0, shanghai), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := o.Active(tt.now); got != tt.want {
				t.Errorf("Active(%v) = %v, expected %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestOfferOpenWindow(t *testing.T) {
	o := Offer{}
	if !o.Active(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("offer without start or end is inactive")
	}
}

func TestOfferText(t *testing.T) {
	o := Offer{
		Title: map[string]string{"en": "Sale", "zh": "促销"},
		Copy:  map[string]string{"en": "Save", "zh": "省钱"},
	}
	tests := []struct {
		lang, title, copy string
	}{
		{"zh", "促销", "省钱"},
		{"en", "Sale", "Save"},
		{"fr", "Sale", "Save"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			title, copy := o.Text(tt.lang)
			if title != tt.title || copy != tt.copy {
				t.Errorf("Text(%q) = %q, %q, expected %q, %q", tt.lang, title, copy, tt.title, tt.copy)
			}
		})
	}

	zhOnly := Offer{Title: map[string]string{"zh": "促销"}}
	if title, _ := zhOnly.Text("en"); title != "促销" {
		t.Errorf("Text(en) on zh-only offer = %q, expected the zh title", title)
	}
}

func TestConfigFilesParse(t *testing.T) {
	data, err := os.ReadFile("../../configs/offers.yaml")
	if err != nil {
		t.Fatalf("read offers config: %v", err)
	}
	offers, err := ParseOffers(data)
	if err != nil {
		t.Fatalf("ParseOffers(configs/offers.yaml): %v", err)
	}
	if len(offers) < 6 || len(offers) > 8 {
		t.Errorf("configs/offers.yaml has %d offers, expected 6 to 8", len(offers))
	}
	for _, o := range offers {
		if o.Title["en"] == "" || o.Title["zh"] == "" || o.Copy["en"] == "" || o.Copy["zh"] == "" {
			t.Errorf("offer %s lacks en or zh title or copy", o.ID)
		}
	}

	data, err = os.ReadFile("../../configs/experiments.yaml")
	if err != nil {
		t.Fatalf("read experiments config: %v", err)
	}
	exps, err := ParseExperiments(data)
	if err != nil {
		t.Fatalf("ParseExperiments(configs/experiments.yaml): %v", err)
	}
	if len(exps) != 1 || exps[0].ID != "personalization" || exps[0].Control != "none" || len(exps[0].Variants) != 3 {
		t.Errorf("experiments = %+v, expected personalization with control none and 3 variants", exps)
	}
}
