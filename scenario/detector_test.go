package scenario

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLunarFestivalDates(t *testing.T) {
	tests := []struct {
		name string
		date func(int) time.Time
		year int
		want string
	}{
		{name: "spring_festival_2025", date: lunarDate(1, 1), year: 2025, want: "2025-01-29"},
		{name: "spring_festival_2026", date: lunarDate(1, 1), year: 2026, want: "2026-02-17"},
		{name: "spring_festival_2027", date: lunarDate(1, 1), year: 2027, want: "2027-02-06"},
		{name: "mid_autumn_2025", date: lunarDate(8, 15), year: 2025, want: "2025-10-06"},
		{name: "mid_autumn_2026", date: lunarDate(8, 15), year: 2026, want: "2026-09-25"},
		{name: "qixi_2025", date: lunarDate(7, 7), year: 2025, want: "2025-08-29"},
		{name: "qixi_2026", date: lunarDate(7, 7), year: 2026, want: "2026-08-19"},
		{name: "black_friday_2026", date: blackFriday, year: 2026, want: "2026-11-27"},
		{name: "black_friday_2025", date: blackFriday, year: 2025, want: "2025-11-28"},
		{name: "cyber_monday_2026", date: cyberMonday, year: 2026, want: "2026-11-30"},
		{name: "mothers_day_2026", date: nthWeekday(time.May, time.Sunday, 2), year: 2026, want: "2026-05-10"},
		{name: "fathers_day_2026", date: nthWeekday(time.June, time.Sunday, 3), year: 2026, want: "2026-06-21"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.date(tc.year).Format(time.DateOnly); got != tc.want {
				t.Errorf("date(%d) = %s, want %s", tc.year, got, tc.want)
			}
		})
	}
}

func TestUpcomingFestival(t *testing.T) {
	tests := []struct {
		name, date, country string
		wantID              string
		wantDays            int
	}{
		{name: "singles_day_lead_up", date: "2026-11-08", country: "CN", wantID: "singles_day", wantDays: 3},
		{name: "singles_day_itself", date: "2026-11-11", country: "", wantID: "singles_day", wantDays: 0},
		{name: "black_friday_us", date: "2026-11-20", country: "US", wantID: "black_friday", wantDays: 7},
		{name: "black_friday_not_in_cn", date: "2026-11-28", country: "CN", wantID: "double_12", wantDays: 14},
		{name: "spring_festival_after_valentines", date: "2026-02-15", country: "CN", wantID: "spring_festival", wantDays: 2},
		{name: "valentines_before_spring_festival", date: "2026-02-10", country: "US", wantID: "valentines_day", wantDays: 4},
		{name: "nothing_in_april", date: "2026-04-10", country: "US", wantID: "", wantDays: 0},
	}
	var fc festivalCalendar
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			day, err := time.Parse(time.DateOnly, tc.date)
			if err != nil {
				t.Fatal(err)
			}
			got := fc.upcoming(day.Add(15*time.Hour), tc.country)
			if tc.wantID == "" {
				if got != nil {
					t.Errorf("upcoming(%s, %s) = %+v, want none", tc.date, tc.country, got)
				}
				return
			}
			if got == nil || got.ID != tc.wantID || got.DaysLeft != tc.wantDays {
				t.Errorf("upcoming(%s, %s) = %+v, want %s in %d days", tc.date, tc.country, got, tc.wantID, tc.wantDays)
			}
		})
	}
}

func TestSeasonAndTimeOfDay(t *testing.T) {
	tests := []struct {
		name    string
		month   time.Month
		country string
		zone    string
		want    string
	}{
		{name: "january_north", month: time.January, zone: "Europe/London", want: "winter"},
		{name: "january_sydney", month: time.January, zone: "Australia/Sydney", want: "summer"},
		{name: "july_argentina_zone", month: time.July, zone: "America/Argentina/Cordoba", want: "winter"},
		{name: "october_brazil", month: time.October, country: "BR", want: "spring"},
		{name: "october_china", month: time.October, zone: "Asia/Shanghai", want: "autumn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := season(tc.month, isSouthern(tc.country, tc.zone)); got != tc.want {
				t.Errorf("season(%s, %s %s) = %s, want %s", tc.month, tc.country, tc.zone, got, tc.want)
			}
		})
	}
	hours := map[int]string{0: "night", 4: "night", 5: "morning", 12: "afternoon", 18: "evening", 23: "night"}
	for h, want := range hours {
		if got := timeOfDay(h); got != want {
			t.Errorf("timeOfDay(%d) = %s, want %s", h, got, want)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct {
		name, text, locale, want string
	}{
		{name: "chinese_text_en_locale", text: "有红色的吗", locale: "en-US", want: "zh"},
		{name: "english_sentence_zh_locale", text: "do you have red ones", locale: "zh-CN", want: "en"},
		{name: "short_text_zh_locale", text: "iPhone 15", locale: "zh_CN", want: "zh"},
		{name: "emoji_en_locale", text: "👍", locale: "en-GB", want: "en"},
		{name: "empty_everything", text: "", locale: "", want: "en"},
		{name: "mixed_text", text: "iphone 15 pro 有货吗", locale: "en", want: "zh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectLanguage(tc.text, tc.locale); got != tc.want {
				t.Errorf("DetectLanguage(%q, %q) = %s, want %s", tc.text, tc.locale, got, tc.want)
			}
		})
	}
}

func TestLocaleRegion(t *testing.T) {
	tests := map[string]string{"zh-CN": "CN", "zh-Hans-CN": "CN", "en_US.UTF-8": "US", "en": "", "": ""}
	for in, want := range tests {
		if got := localeRegion(in); got != want {
			t.Errorf("localeRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

func hasReason(reasons []string, part string) bool {
	return slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(r, part) })
}

func TestDetect(t *testing.T) {
	d := newTestDetector(t)
	singlesEve := time.Date(2026, 11, 8, 12, 30, 0, 0, time.UTC) // 20:30 in Shanghai
	tests := []struct {
		name        string
		in          Input
		wantLabel   string
		wantReasons []string
		check       func(t *testing.T, s Scenario)
	}{
		{
			name:        "gift_in_shanghai_evening",
			in:          Input{Now: singlesEve, Timezone: "Asia/Shanghai", Text: "送妈妈什么礼物好"},
			wantLabel:   LabelGiftShopping,
			wantReasons: []string{"evening in Asia/Shanghai", "Singles' Day in 3 days", "intent gift", "country CN from time zone Asia/Shanghai"},
			check: func(t *testing.T, s Scenario) {
				if s.Language != "zh" || s.Country != "CN" || s.LocalTime.Hour() != 20 {
					t.Errorf("language=%s country=%s hour=%d, want zh CN 20", s.Language, s.Country, s.LocalTime.Hour())
				}
			},
		},
		{
			name:        "human_handoff",
			in:          Input{Now: singlesEve, Text: "I want to talk to a real person"},
			wantLabel:   LabelHumanHandoff,
			wantReasons: []string{"intent human"},
		},
		{
			name:        "invalid_zone_falls_back",
			in:          Input{Now: singlesEve, Timezone: "Mars/Base", Text: "hello"},
			wantLabel:   LabelFestivalShopping,
			wantReasons: []string{`invalid time zone "Mars/Base", using UTC`, "afternoon in UTC"},
			check: func(t *testing.T, s Scenario) {
				if s.LocalTime.Location() != time.UTC {
					t.Errorf("location = %v, want UTC", s.LocalTime.Location())
				}
			},
		},
		{
			name: "abandoned_cart_bargain",
			in: Input{Now: time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC), Timezone: "Europe/London", Text: "hi",
				Behavior: Behavior{AbandonedCart: true, SinceLastVisit: 50 * time.Hour}},
			wantLabel:   LabelBargainHunting,
			wantReasons: []string{"cart abandoned 2 days ago"},
		},
		{
			name:        "after_sales_refund",
			in:          Input{Now: singlesEve, Locale: "zh-CN", Text: "退款什么时候到账"},
			wantLabel:   LabelAfterSales,
			wantReasons: []string{"intent return_refund"},
		},
		{
			name:        "urgent_need",
			in:          Input{Now: time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC), Text: "I need a phone charger today"},
			wantLabel:   LabelUrgentNeed,
			wantReasons: []string{`urgency cue "today"`},
		},
		{
			name:        "angry_complaint",
			in:          Input{Now: time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC), Text: "worst service ever, I'm furious 😡"},
			wantLabel:   LabelComplaint,
			wantReasons: []string{"intent"},
		},
		{
			name: "browsing_sydney_summer",
			in: Input{Now: time.Date(2026, 1, 20, 1, 0, 0, 0, time.UTC), Timezone: "Australia/Sydney",
				Device: "mobile", Page: Page{Kind: "category"}},
			wantLabel:   LabelBrowsing,
			wantReasons: []string{"on category page"},
			check: func(t *testing.T, s Scenario) {
				if s.Season != "summer" || s.Country != "AU" || s.Device != "mobile" {
					t.Errorf("season=%s country=%s device=%s, want summer AU mobile", s.Season, s.Country, s.Device)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := d.Detect(tc.in)
			if s.Label != tc.wantLabel {
				t.Errorf("Detect(%q).Label = %s, want %s (reasons %q)", tc.in.Text, s.Label, tc.wantLabel, s.Reasons)
			}
			for _, r := range tc.wantReasons {
				if !hasReason(s.Reasons, r) {
					t.Errorf("Detect(%q).Reasons = %q, want one containing %q", tc.in.Text, s.Reasons, r)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestDetectConcurrent(t *testing.T) {
	d := newTestDetector(t)
	in := Input{Now: time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC), Timezone: "Asia/Taipei", Text: "有優惠嗎"}
	want := d.Detect(in).Label
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := d.Detect(in).Label; got != want {
					t.Errorf("concurrent Detect label = %s, want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewDetectorRequiresExamples(t *testing.T) {
	if _, err := NewDetector(Options{}); err == nil {
		t.Error("NewDetector with no examples succeeded, want an error")
	}
}

func BenchmarkDetect(b *testing.B) {
	d := newTestDetector(b)
	in := Input{
		Now: time.Date(2026, 11, 8, 12, 30, 0, 0, time.UTC), Timezone: "Asia/Shanghai", Locale: "zh-CN",
		Text: "双十一有什么优惠，想给女朋友买个礼物", Behavior: Behavior{Returning: true, Visits: 3},
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(in)
	}
}
