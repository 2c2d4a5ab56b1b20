package scenario

import (
	"sync"
	"time"

	"github.com/6tail/lunar-go/calendar"
)

// Lead-up windows: a festival is reported from this many days before it
// until the day itself.
const (
	saleLeadDays    = 14
	holidayLeadDays = 7
)

// chineseMarkets are the countries where Chinese shopping festivals and
// lunar holidays apply. Shoppers with no known country see every festival.
var chineseMarkets = []string{"CN", "HK", "MO", "TW", "SG", "MY"}

// westernSaleMarkets are the countries with Black Friday and Cyber Monday
// sales, an estimate from where the big retailers run them.
var westernSaleMarkets = []string{
	"US", "CA", "GB", "IE", "AU", "NZ", "DE", "FR", "ES", "IT", "NL", "BE",
	"AT", "CH", "SE", "NO", "DK", "FI", "PL", "PT", "BR", "MX", "AR", "CL",
	"CO", "ZA", "IN",
}

// festivalRule describes one festival: its id, names, how to compute its
// date in a Gregorian year, its lead-up days and where it applies.
type festivalRule struct {
	id, name, nameZH string
	date             func(year int) time.Time
	leadDays         int
	markets          []string // nil means everywhere
}

// festivalRules lists the festivals Detect knows. Dates are civil dates in
// the user's zone, represented as midnight UTC.
var festivalRules = []festivalRule{
	{"spring_festival", "Spring Festival", "春节", lunarDate(1, 1), saleLeadDays, chineseMarkets},
	{"valentines_day", "Valentine's Day", "情人节", fixedDate(time.February, 14), holidayLeadDays, nil},
	{"mothers_day", "Mother's Day", "母亲节", nthWeekday(time.May, time.Sunday, 2), holidayLeadDays, nil},
	{"618", "618 Shopping Festival", "618购物节", fixedDate(time.June, 18), saleLeadDays, chineseMarkets},
	{"fathers_day", "Father's Day", "父亲节", nthWeekday(time.June, time.Sunday, 3), holidayLeadDays, nil},
	{"qixi", "Qixi Festival", "七夕", lunarDate(7, 7), holidayLeadDays, chineseMarkets},
	{"mid_autumn", "Mid-Autumn Festival", "中秋节", lunarDate(8, 15), holidayLeadDays, chineseMarkets},
	{"singles_day", "Singles' Day", "双十一", fixedDate(time.November, 11), saleLeadDays, nil},
	{"black_friday", "Black Friday", "黑色星期五", blackFriday, saleLeadDays, westernSaleMarkets},
	{"cyber_monday", "Cyber Monday", "网络星期一", cyberMonday, holidayLeadDays, westernSaleMarkets},
	{"double_12", "Double 12", "双十二", fixedDate(time.December, 12), saleLeadDays, chineseMarkets},
	{"christmas", "Christmas", "圣诞节", fixedDate(time.December, 25), saleLeadDays, nil},
}

func civilDate(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

func fixedDate(month time.Month, day int) func(int) time.Time {
	return func(year int) time.Time { return civilDate(year, month, day) }
}

// nthWeekday returns the date of the n-th weekday of month, such as the
// second Sunday of May (Mother's Day in the US, China and Australia).
func nthWeekday(month time.Month, weekday time.Weekday, n int) func(int) time.Time {
	return func(year int) time.Time {
		first := civilDate(year, month, 1)
		offset := (int(weekday) - int(first.Weekday()) + 7) % 7
		return first.AddDate(0, 0, offset+7*(n-1))
	}
}

// blackFriday is the day after US Thanksgiving, the fourth Thursday of
// November.
func blackFriday(year int) time.Time {
	return nthWeekday(time.November, time.Thursday, 4)(year).AddDate(0, 0, 1)
}

func cyberMonday(year int) time.Time {
	return blackFriday(year).AddDate(0, 0, 3)
}

// lunarDate returns the Gregorian date of a day of the Chinese lunar
// calendar (non-leap month) in the lunar year that starts in the given
// Gregorian year, computed by lunar-go v1.4.7.
func lunarDate(month, day int) func(int) time.Time {
	return func(year int) time.Time {
		s := calendar.NewLunarFromYmd(year, month, day).GetSolar()
		return civilDate(s.GetYear(), time.Month(s.GetMonth()), s.GetDay())
	}
}

// festivalCalendar caches festival dates per Gregorian year, because
// lunar-go takes tens of microseconds per date. It is safe for concurrent
// use.
type festivalCalendar struct {
	mu    sync.Mutex
	years map[int][]time.Time // guarded by mu; dates in festivalRules order
}

func (fc *festivalCalendar) datesOf(year int) []time.Time {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if d, ok := fc.years[year]; ok {
		return d
	}
	if fc.years == nil {
		fc.years = make(map[int][]time.Time)
	}
	d := make([]time.Time, len(festivalRules))
	for i, r := range festivalRules {
		d[i] = r.date(year)
	}
	fc.years[year] = d
	return d
}

// upcoming returns the nearest festival that applies to country and falls
// between local's date and its lead-up window, or nil. On equal distance
// the earlier rule in festivalRules wins.
func (fc *festivalCalendar) upcoming(local time.Time, country string) *Festival {
	today := civilDate(local.Year(), local.Month(), local.Day())
	var best *Festival
	// A festival in early next year (Spring Festival, Valentine's Day) can
	// be inside the window in late December.
	for _, year := range []int{today.Year(), today.Year() + 1} {
		for i, when := range fc.datesOf(year) {
			r := festivalRules[i]
			days := int(when.Sub(today).Hours() / 24)
			if days < 0 || days > r.leadDays || !appliesTo(r.markets, country) {
				continue
			}
			if best == nil || days < best.DaysLeft {
				best = &Festival{ID: r.id, Name: r.name, NameZH: r.nameZH, DaysLeft: days}
			}
		}
	}
	return best
}

func appliesTo(markets []string, country string) bool {
	if markets == nil || country == "" {
		return true
	}
	for _, m := range markets {
		if m == country {
			return true
		}
	}
	return false
}
