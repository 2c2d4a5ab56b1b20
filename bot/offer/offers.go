package offer

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Offer kinds accepted in Offer.Kind.
const (
	KindPercentage   = "percentage"
	KindFixedAmount  = "fixed_amount"
	KindFreeShipping = "free_shipping"
	KindGift         = "gift"
)

// ErrInvalidConfig is wrapped by every error that ParseOffers and
// ParseExperiments return for a document that decodes but fails validation.
var ErrInvalidConfig = errors.New("invalid config")

// Offer is one promotion the bot may show, loaded from configs/offers.yaml.
type Offer struct {
	ID    string
	Title map[string]string // by language code: "en", "zh"
	Copy  map[string]string // one or two sentences shown under the title, by language code
	Kind  string            // KindPercentage, KindFixedAmount, KindFreeShipping or KindGift
	Value float64           // percent for KindPercentage, currency units for KindFixedAmount and KindGift
	Code  string            // coupon code the shopper enters at checkout; empty when none is needed

	// Start and End bound the validity window: an offer is active from Start
	// (inclusive) until End (exclusive). A zero Start or End leaves that side
	// open. Both are instants, parsed in Timezone.
	Start    time.Time
	End      time.Time
	Timezone string // IANA zone the YAML times are written in; empty means UTC

	Eligibility Eligibility
	Priority    int // higher ranks first while an offer is below Options.MinImpressions
	CapPerUser  int // maximum impressions to one user; 0 means unlimited
	Budget      int // maximum impressions in total; 0 means unlimited
	Image       string
}

// Eligibility lists the conditions a turn must meet for an offer to be shown.
// An empty list or nil pointer places no condition. Within a list any entry
// may match; across fields every condition must hold.
type Eligibility struct {
	Segments   []string
	Scenarios  []string // scenario labels such as gift_shopping
	Intents    []string // intent labels such as price
	Categories []string // category path prefixes such as "Home & Garden > Kitchen"
	MinCart    float64  // minimum cart value in the store currency
	NewUser    *bool    // true: only new users, false: only returning users
	// AbandonedCart, when set, requires the user's behaviour to show (true) or
	// not show (false) an abandoned cart.
	AbandonedCart *bool
	Countries     []string // ISO 3166-1 alpha-2 codes
	Devices       []string // mobile, tablet, desktop
	PageKinds     []string // home, category, product, cart, checkout
}

// Active reports whether now falls inside the offer's validity window.
func (o Offer) Active(now time.Time) bool {
	if !o.Start.IsZero() && now.Before(o.Start) {
		return false
	}
	if !o.End.IsZero() && !now.Before(o.End) {
		return false
	}
	return true
}

// Text returns the title and copy in lang, falling back to English and then
// to the alphabetically first language present.
func (o Offer) Text(lang string) (title, copy string) {
	for _, l := range []string{lang, "en"} {
		if t, ok := o.Title[l]; ok {
			return t, o.Copy[l]
		}
	}
	first := ""
	for l := range o.Title {
		if first == "" || l < first {
			first = l
		}
	}
	return o.Title[first], o.Copy[first]
}

// Labels and values that eligibility lists may name.
var (
	scenarioLabels = []string{"gift_shopping", "bargain_hunting", "urgent_need", "comparison",
		"festival_shopping", "after_sales", "complaint", "browsing"}
	intentLabels = []string{"product_search", "gift", "price", "comparison", "order_status",
		"shipping", "return_refund", "complaint", "greeting", "chitchat", "human", "oos"}
	deviceNames   = []string{"mobile", "tablet", "desktop"}
	pageKindNames = []string{"home", "category", "product", "cart", "checkout"}
	languageCodes = []string{"en", "zh"}
)

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Time layouts accepted for start and end. A date without a time means the
// start of that day for start and the end of that day for end.
const (
	minuteLayout = "2006-01-02 15:04"
	dateLayout   = "2006-01-02"
)

type offersFile struct {
	Offers []offerYAML `yaml:"offers"`
}

type offerYAML struct {
	ID          string            `yaml:"id"`
	Title       map[string]string `yaml:"title"`
	Copy        map[string]string `yaml:"copy"`
	Kind        string            `yaml:"kind"`
	Value       float64           `yaml:"value"`
	Code        string            `yaml:"code"`
	Start       string            `yaml:"start"`
	End         string            `yaml:"end"`
	Timezone    string            `yaml:"timezone"`
	Eligibility eligibilityYAML   `yaml:"eligibility"`
	Priority    int               `yaml:"priority"`
	CapPerUser  int               `yaml:"cap_per_user"`
	Budget      int               `yaml:"budget"`
	Image       string            `yaml:"image"`
}

type eligibilityYAML struct {
	Segments      []string `yaml:"segments"`
	Scenarios     []string `yaml:"scenarios"`
	Intents       []string `yaml:"intents"`
	Categories    []string `yaml:"categories"`
	MinCart       float64  `yaml:"min_cart"`
	NewUser       *bool    `yaml:"new_user"`
	AbandonedCart *bool    `yaml:"abandoned_cart"`
	Countries     []string `yaml:"countries"`
	Devices       []string `yaml:"devices"`
	PageKinds     []string `yaml:"page_kinds"`
}

// ParseOffers decodes an offers document (a top-level "offers" list) and
// validates every offer. Unknown keys are errors. The returned error joins
// one error per invalid field, each naming the offer id and the fix, and each
// wrapping ErrInvalidConfig.
func ParseOffers(data []byte) ([]Offer, error) {
	var file offersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("decode offers: %w", err)
	}

	var errs []error
	seen := make(map[string]bool)
	offers := make([]Offer, 0, len(file.Offers))
	for i, raw := range file.Offers {
		o, offerErrs := convertOffer(raw)
		name := raw.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		if raw.ID != "" && seen[raw.ID] {
			offerErrs = append(offerErrs, "id: duplicate id; give each offer a unique id")
		}
		seen[raw.ID] = true
		for _, msg := range offerErrs {
			errs = append(errs, fmt.Errorf("%w: offer %s: %s", ErrInvalidConfig, name, msg))
		}
		offers = append(offers, o)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return offers, nil
}

func convertOffer(raw offerYAML) (Offer, []string) {
	o := Offer{
		ID: raw.ID, Title: raw.Title, Copy: raw.Copy, Kind: raw.Kind, Value: raw.Value,
		Code: raw.Code, Timezone: raw.Timezone, Priority: raw.Priority,
		CapPerUser: raw.CapPerUser, Budget: raw.Budget, Image: raw.Image,
	}
	var errs []string
	if !idPattern.MatchString(raw.ID) {
		errs = append(errs, fmt.Sprintf("id: invalid id %q; use 1-64 lowercase letters, digits, '_' or '-'", raw.ID))
	}
	errs = append(errs, checkTexts(raw.Title, raw.Copy)...)
	errs = append(errs, checkKind(raw.Kind, raw.Value)...)
	errs = append(errs, parseWindow(&o, raw)...)

	if raw.CapPerUser < 0 {
		errs = append(errs, fmt.Sprintf("cap_per_user: invalid value %d; use 0 for unlimited or a positive count", raw.CapPerUser))
	}
	if raw.Budget < 0 {
		errs = append(errs, fmt.Sprintf("budget: invalid value %d; use 0 for unlimited or a positive impression count", raw.Budget))
	}

	e, eligErrs := convertEligibility(raw.Eligibility)
	o.Eligibility = e
	errs = append(errs, eligErrs...)
	return o, errs
}

func checkTexts(title, copy map[string]string) []string {
	var errs []string
	if len(title) == 0 {
		errs = append(errs, "title: missing; add at least an en or zh title")
	}
	for field, texts := range map[string]map[string]string{"title": title, "copy": copy} {
		for lang, text := range texts {
			if !slices.Contains(languageCodes, lang) {
				errs = append(errs, fmt.Sprintf("%s.%s: unsupported language; use one of %s", field, lang, strings.Join(languageCodes, ", ")))
			}
			if strings.TrimSpace(text) == "" {
				errs = append(errs, fmt.Sprintf("%s.%s: empty text; write the text or remove the key", field, lang))
			}
		}
	}
	for lang := range copy {
		if _, ok := title[lang]; !ok && slices.Contains(languageCodes, lang) {
			errs = append(errs, fmt.Sprintf("copy.%s: no title in that language; add title.%s", lang, lang))
		}
	}
	return errs
}

func checkKind(kind string, value float64) []string {
	switch kind {
	case KindPercentage:
		if value <= 0 || value >= 100 {
			return []string{fmt.Sprintf("value: invalid percentage %g; use a number above 0 and below 100", value)}
		}
	case KindFixedAmount:
		if value <= 0 {
			return []string{fmt.Sprintf("value: invalid amount %g; use a positive amount in the store currency", value)}
		}
	case KindFreeShipping, KindGift:
		if value < 0 {
			return []string{fmt.Sprintf("value: invalid value %g; use 0 or a positive amount", value)}
		}
	default:
		return []string{fmt.Sprintf("kind: invalid kind %q; use %s, %s, %s or %s",
			kind, KindPercentage, KindFixedAmount, KindFreeShipping, KindGift)}
	}
	return nil
}

func parseWindow(o *Offer, raw offerYAML) []string {
	loc := time.UTC
	if raw.Timezone != "" {
		l, err := time.LoadLocation(raw.Timezone)
		if err != nil {
			return []string{fmt.Sprintf("timezone: unknown zone %q; use an IANA name such as Asia/Shanghai", raw.Timezone)}
		}
		loc = l
	}

	var errs []string
	var err error
	if o.Start, err = parseBound(raw.Start, loc, false); err != nil {
		errs = append(errs, "start: "+err.Error())
	}
	if o.End, err = parseBound(raw.End, loc, true); err != nil {
		errs = append(errs, "end: "+err.Error())
	}
	if !o.Start.IsZero() && !o.End.IsZero() && !o.End.After(o.Start) {
		errs = append(errs, fmt.Sprintf("end: %q is not after start %q; move end later", raw.End, raw.Start))
	}
	return errs
}

func parseBound(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(minuteLayout, s, loc); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(dateLayout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q; write \"YYYY-MM-DD HH:MM\" or \"YYYY-MM-DD\"", s)
	}
	if end {
		// A bare end date includes that whole day.
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

func convertEligibility(raw eligibilityYAML) (Eligibility, []string) {
	e := Eligibility{
		Segments: raw.Segments, Scenarios: raw.Scenarios, Intents: raw.Intents,
		Categories: raw.Categories, MinCart: raw.MinCart, NewUser: raw.NewUser,
		AbandonedCart: raw.AbandonedCart, Countries: raw.Countries, Devices: raw.Devices,
		PageKinds: raw.PageKinds,
	}
	var errs []string
	errs = append(errs, checkAllowed("eligibility.scenarios", raw.Scenarios, scenarioLabels)...)
	errs = append(errs, checkAllowed("eligibility.intents", raw.Intents, intentLabels)...)
	errs = append(errs, checkAllowed("eligibility.devices", raw.Devices, deviceNames)...)
	errs = append(errs, checkAllowed("eligibility.page_kinds", raw.PageKinds, pageKindNames)...)
	for _, c := range raw.Countries {
		if !countryPattern.MatchString(c) {
			errs = append(errs, fmt.Sprintf("eligibility.countries: invalid code %q; use an uppercase ISO 3166-1 alpha-2 code such as CN", c))
		}
	}
	for _, c := range raw.Categories {
		if strings.TrimSpace(c) == "" {
			errs = append(errs, "eligibility.categories: empty category; remove it or write a path prefix such as \"Home & Garden\"")
		}
	}
	for _, s := range raw.Segments {
		if strings.TrimSpace(s) == "" {
			errs = append(errs, "eligibility.segments: empty segment name; remove it")
		}
	}
	if raw.MinCart < 0 {
		errs = append(errs, fmt.Sprintf("eligibility.min_cart: invalid amount %g; use 0 or a positive amount", raw.MinCart))
	}
	return e, errs
}

func checkAllowed(field string, values, allowed []string) []string {
	var errs []string
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			errs = append(errs, fmt.Sprintf("%s: unknown value %q; use one of %s", field, v, strings.Join(allowed, ", ")))
		}
	}
	return errs
}
