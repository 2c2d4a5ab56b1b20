package scenario

import (
	"strings"
	"sync"
	"time"
	"unicode"

	// Embeds the IANA time zone database so that zones load on machines
	// without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// locationCache caches loaded time zones, because time.LoadLocation reads
// and parses the zone data on every call. Unknown names are cached as nil.
// It is safe for concurrent use.
type locationCache struct {
	zones sync.Map // string -> *time.Location, nil for an invalid name
}

// load returns the zone named name, or UTC and false when the name is not
// a valid IANA zone. An empty name is UTC and valid.
func (lc *locationCache) load(name string) (*time.Location, bool) {
	if name == "" {
		return time.UTC, true
	}
	if v, ok := lc.zones.Load(name); ok {
		loc := v.(*time.Location)
		return locationOrUTC(loc)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		loc = nil
	}
	lc.zones.Store(name, loc)
	return locationOrUTC(loc)
}

func locationOrUTC(loc *time.Location) (*time.Location, bool) {
	if loc == nil {
		return time.UTC, false
	}
	return loc, true
}

// timeOfDay names the part of the day of an hour: night 23:00 to 05:00,
// morning to 12:00, afternoon to 18:00, evening to 23:00.
func timeOfDay(hour int) string {
	switch {
	case hour >= 5 && hour < 12:
		return "morning"
	case hour >= 12 && hour < 18:
		return "afternoon"
	case hour >= 18 && hour < 23:
		return "evening"
	default:
		return "night"
	}
}

// season returns the meteorological season of month: spring is March to
// May in the northern hemisphere and September to November in the southern.
func season(month time.Month, southern bool) string {
	if southern {
		month = (month+5)%12 + 1
	}
	switch month {
	case time.March, time.April, time.May:
		return "spring"
	case time.June, time.July, time.August:
		return "summer"
	case time.September, time.October, time.November:
		return "autumn"
	default:
		return "winter"
	}
}

// southernCountries are countries that lie wholly or mostly south of the
// equator, where seasons are reversed.
var southernCountries = map[string]bool{
	"AR": true, "AU": true, "BO": true, "BR": true, "BW": true, "CL": true,
	"FJ": true, "LS": true, "MG": true, "MU": true, "MZ": true, "NA": true,
	"NZ": true, "PE": true, "PG": true, "PY": true, "SZ": true, "UY": true,
	"ZA": true, "ZM": true, "ZW": true, "AO": true, "MW": true, "TZ": true,
}

// isSouthern reports whether the user's country or time zone is in the
// southern hemisphere. The country wins when it is known.
func isSouthern(country, zone string) bool {
	if country != "" {
		return southernCountries[country]
	}
	if c := zoneCountry(zone); c != "" {
		return southernCountries[c]
	}
	return strings.HasPrefix(zone, "Australia/") || strings.HasPrefix(zone, "Antarctica/")
}

// zoneCountries maps common IANA zones to the ISO 3166-1 country they
// serve. Zones shared by several countries, such as Europe/Zurich or
// Asia/Dubai, map to the country they are named after.
var zoneCountries = map[string]string{
	"Asia/Shanghai": "CN", "Asia/Chongqing": "CN", "Asia/Harbin": "CN", "Asia/Urumqi": "CN",
	"PRC": "CN", "Asia/Hong_Kong": "HK", "Asia/Macau": "MO", "Asia/Taipei": "TW",
	"Asia/Singapore": "SG", "Asia/Kuala_Lumpur": "MY", "Asia/Tokyo": "JP", "Asia/Seoul": "KR",
	"Asia/Bangkok": "TH", "Asia/Jakarta": "ID", "Asia/Manila": "PH", "Asia/Ho_Chi_Minh": "VN",
	"Asia/Kolkata": "IN", "Asia/Calcutta": "IN", "Asia/Dubai": "AE", "Asia/Riyadh": "SA",
	"Asia/Jerusalem": "IL", "Europe/Istanbul": "TR", "Europe/London": "GB", "Europe/Dublin": "IE",
	"Europe/Paris": "FR", "Europe/Berlin": "DE", "Europe/Madrid": "ES", "Europe/Rome": "IT",
	"Europe/Amsterdam": "NL", "Europe/Brussels": "BE", "Europe/Vienna": "AT", "Europe/Zurich": "CH",
	"Europe/Stockholm": "SE", "Europe/Oslo": "NO", "Europe/Copenhagen": "DK", "Europe/Helsinki": "FI",
	"Europe/Warsaw": "PL", "Europe/Lisbon": "PT", "Europe/Prague": "CZ", "Europe/Athens": "GR",
	"Europe/Moscow": "RU", "Europe/Kiev": "UA", "Europe/Kyiv": "UA",
	"America/New_York": "US", "America/Chicago": "US", "America/Denver": "US",
	"America/Phoenix": "US", "America/Los_Angeles": "US", "America/Anchorage": "US",
	"Pacific/Honolulu": "US", "America/Toronto": "CA", "America/Vancouver": "CA",
	"America/Montreal": "CA", "America/Edmonton": "CA", "America/Mexico_City": "MX",
	"America/Sao_Paulo": "BR", "America/Bogota": "CO", "America/Lima": "PE",
	"America/Santiago": "CL", "America/Montevideo": "UY", "America/Asuncion": "PY",
	"America/La_Paz": "BO", "America/Caracas": "VE",
	"Africa/Johannesburg": "ZA", "Africa/Cairo": "EG", "Africa/Lagos": "NG", "Africa/Nairobi": "KE",
	"Pacific/Auckland": "NZ", "Pacific/Fiji": "FJ",
}

// zoneCountry returns the country of an IANA zone, or "" when unknown.
// Every Australia/* zone is AU and every America/Argentina/* zone is AR.
func zoneCountry(zone string) string {
	if c, ok := zoneCountries[zone]; ok {
		return c
	}
	switch {
	case strings.HasPrefix(zone, "Australia/"):
		return "AU"
	case strings.HasPrefix(zone, "America/Argentina/") || zone == "America/Buenos_Aires":
		return "AR"
	}
	return ""
}

// localeRegion returns the upper-case region subtag of a BCP 47 or POSIX
// locale ("zh-Hans-CN" and "en_US.UTF-8" give CN and US), or "".
func localeRegion(locale string) string {
	locale, _, _ = strings.Cut(locale, ".")
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '-' || r == '_' })
	for _, p := range parts[min(1, len(parts)):] {
		if len(p) == 2 && isASCIILetters(p) {
			return strings.ToUpper(p)
		}
	}
	return ""
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// DetectLanguage returns "zh" or "en", the language to answer in. Text with
// Han characters is Chinese. Text of three or more Latin-script words with
// no Han is English, whatever the locale. Anything shorter ("ok", "iPhone
// 15", an emoji) follows the locale: "zh" when its language subtag is zh,
// else "en".
func DetectLanguage(text, locale string) string {
	latinWords := 0
	inWord := false
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
		isLatin := unicode.Is(unicode.Latin, r)
		if isLatin && !inWord {
			latinWords++
		}
		inWord = isLatin
	}
	if latinWords >= 3 {
		return "en"
	}
	lang, _, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	if strings.EqualFold(lang, "zh") {
		return "zh"
	}
	return "en"
}
