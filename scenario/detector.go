package scenario

import (
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// IntentOOS is the intent label of out-of-scope text.
const IntentOOS = "oos"

// EmotionUnknown is the label the emotion classifier's Predict returns for
// text without letters, digits or symbols. Detect reports EmotionNeutral
// instead, so a turn with text always gets one of the trained emotions.
const EmotionUnknown = "unknown"

// EmotionNeutral is the emotion Detect reports when the emotion classifier
// is unsure.
const EmotionNeutral = "neutral"

// emotionThreshold is the top-class probability below which Detect reports
// EmotionNeutral instead of the top emotion. The shipped emotion set has no
// out-of-scope class to tune a threshold on, so this is a fixed estimate.
const emotionThreshold = 0.3

// Options configures NewDetector.
type Options struct {
	// IntentExamples and EmotionExamples train the two classifiers; both
	// are required. The configs package ships them as training/*.jsonl.
	IntentExamples  []Example
	EmotionExamples []Example
	// Logger receives one line per trained model. Nil discards.
	Logger *slog.Logger
}

// Detector computes the Scenario of a turn. It is safe for concurrent use.
type Detector struct {
	intent    *Classifier
	emotion   *Classifier
	zones     locationCache
	festivals festivalCalendar
}

// NewDetector trains the intent and emotion classifiers.
func NewDetector(opts Options) (*Detector, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	intent, err := TrainClassifier(opts.IntentExamples, ClassifierOptions{OOSLabel: IntentOOS})
	if err != nil {
		return nil, fmt.Errorf("new detector: intent: %w", err)
	}
	logger.Info("intent model trained", "examples", len(opts.IntentExamples),
		"labels", len(intent.Labels()), "threshold", intent.Threshold(),
		"duration_ms", time.Since(start).Milliseconds())

	start = time.Now()
	emotion, err := TrainClassifier(opts.EmotionExamples, ClassifierOptions{
		OOSLabel: EmotionUnknown, OOSThreshold: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("new detector: emotion: %w", err)
	}
	if !slices.Contains(emotion.Labels(), EmotionNeutral) {
		return nil, fmt.Errorf("new detector: emotion examples lack the label %q: %w", EmotionNeutral, ErrNoExamples)
	}
	logger.Info("emotion model trained", "examples", len(opts.EmotionExamples),
		"labels", len(emotion.Labels()), "duration_ms", time.Since(start).Milliseconds())
	return &Detector{intent: intent, emotion: emotion}, nil
}

// Detect computes the scenario of one turn from in. It does no I/O.
func (d *Detector) Detect(in Input) Scenario {
	var reasons []string
	loc, ok := d.zones.load(in.Timezone)
	if !ok {
		reasons = append(reasons, fmt.Sprintf("invalid time zone %q, using UTC", in.Timezone))
	}
	zoneName := in.Timezone
	if !ok || zoneName == "" {
		zoneName = "UTC"
	}
	local := in.Now.In(loc)

	country, countryReason := deriveCountry(in, ok)
	if countryReason != "" {
		reasons = append(reasons, countryReason)
	}
	s := Scenario{
		Language:  DetectLanguage(in.Text, in.Locale),
		LocalTime: local,
		TimeOfDay: timeOfDay(local.Hour()),
		Weekend:   local.Weekday() == time.Saturday || local.Weekday() == time.Sunday,
		Season:    season(local.Month(), isSouthern(country, zoneName)),
		Festival:  d.festivals.upcoming(local, country),
		Country:   country,
		Region:    in.Region,
		City:      in.City,
		Device:    in.Device,
		PageKind:  in.Page.Kind,
		Product:   in.Page.ProductID,
		Segment:   in.Segment,
		Behavior:  in.Behavior,
	}
	var unsure string
	if in.Text != "" {
		s.Intent = d.intent.Predict(in.Text)
		var top Prediction
		s.Emotion, top = d.emotion.predictOr(in.Text, EmotionNeutral, emotionThreshold)
		if s.Emotion.Label != top.Label {
			unsure = fmt.Sprintf("emotion unsure (top %s %.2f), using neutral", top.Label, top.Confidence)
		}
	}
	s.Label, reasons = label(s, in.Text, zoneName, reasons)
	if unsure != "" {
		reasons = append(reasons, unsure)
	}
	s.Reasons = reasons
	return s
}

// deriveCountry returns the user's country: the one the client sent, else
// the time zone's, else the locale's region, with a reason when derived.
func deriveCountry(in Input, zoneValid bool) (string, string) {
	if in.Country != "" {
		return in.Country, ""
	}
	if zoneValid {
		if c := zoneCountry(in.Timezone); c != "" {
			return c, fmt.Sprintf("country %s from time zone %s", c, in.Timezone)
		}
	}
	if c := localeRegion(in.Locale); c != "" {
		return c, fmt.Sprintf("country %s from locale %s", c, in.Locale)
	}
	return "", ""
}
