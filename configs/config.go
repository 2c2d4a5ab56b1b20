// Package configs embeds Concierge's default configuration, prompt templates,
// offers, scenario training examples and the demo catalog, and loads and
// validates Config.
package configs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed concierge.yaml prompts/*.tmpl offers.yaml experiments.yaml training/*.jsonl catalog/demo.jsonl
var files embed.FS

// File returns an embedded file by its path under configs/, such as
// "offers.yaml" or "training/intent.jsonl". It panics when the file is
// missing, because that means the binary was built wrong.
func File(name string) []byte {
	data, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("configs: embedded file %s: %v", name, err))
	}
	return data
}

// Config is the whole configuration tree. YAML keys are snake_case.
type Config struct {
	Server    Server    `yaml:"server"`
	Log       Log       `yaml:"log"`
	LLM       LLM       `yaml:"llm"`
	Bot       Bot       `yaml:"bot"`
	Web       Web       `yaml:"web"`
	Identity  Identity  `yaml:"identity"`
	Admin     Admin     `yaml:"admin"`
	Memory    Memory    `yaml:"memory"`
	Retrieval Retrieval `yaml:"retrieval"`
	Offers    Offers    `yaml:"offers"`
	Scenario  Scenario  `yaml:"scenario"`
}

// Server holds process-level settings.
type Server struct {
	Addr              string        `yaml:"addr"`                // host:port to listen on
	DataDir           string        `yaml:"data_dir"`            // store, index and secrets live here
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`    // how long streaming turns may finish on SIGTERM
	ImportDemoCatalog bool          `yaml:"import_demo_catalog"` // import the bundled catalog when the index is empty
}

// Log holds logging settings.
type Log struct {
	Format  string `yaml:"format"`  // text or json
	Level   string `yaml:"level"`   // debug, info, warn or error
	Content bool   `yaml:"content"` // log masked message text at debug level
}

// LLM selects and configures the model provider.
type LLM struct {
	Provider    string        `yaml:"provider"` // offline, openai or ollama
	Model       string        `yaml:"model"`
	BaseURL     string        `yaml:"base_url"`
	APIKey      string        `yaml:"api_key" secret:"true"`
	Timeout     time.Duration `yaml:"timeout"`     // per model call, stream included
	MaxRetries  int           `yaml:"max_retries"` // retries before the first token
	Temperature float64       `yaml:"temperature"`
	MaxTokens   int           `yaml:"max_tokens"`
}

// Bot configures the turn pipeline.
type Bot struct {
	TurnTimeout     time.Duration `yaml:"turn_timeout"`     // whole turn, fallback included
	HistoryMessages int           `yaml:"history_messages"` // recent messages put in the prompt
	Products        int           `yaml:"products"`         // product cards per reply
	PromptFile      string        `yaml:"prompt_file"`      // empty: embedded prompts/system.tmpl
}

// Web configures the HTTP server and the WebSocket protocol limits.
type Web struct {
	AllowedOrigins         []string      `yaml:"allowed_origins"`
	RequireOrigin          bool          `yaml:"require_origin"`
	MaxFrameBytes          int64         `yaml:"max_frame_bytes"`
	MaxMessageRunes        int           `yaml:"max_message_runes"`
	MessagesPerMinute      int           `yaml:"messages_per_minute"`
	MessagesPerMinutePerIP int           `yaml:"messages_per_minute_per_ip"`
	EventsPerMinute        int           `yaml:"events_per_minute"`
	MaxConnsPerIP          int           `yaml:"max_conns_per_ip"`
	SendQueue              int           `yaml:"send_queue"`
	MaxPendingMessages     int           `yaml:"max_pending_messages"`
	PingInterval           time.Duration `yaml:"ping_interval"`
	PongTimeout            time.Duration `yaml:"pong_timeout"`
	WriteTimeout           time.Duration `yaml:"write_timeout"`
}

// Identity configures visitor ids and store-signed user tokens.
type Identity struct {
	Secret        string `yaml:"secret" secret:"true"`
	JWTSecret     string `yaml:"jwt_secret" secret:"true"`
	RequireSigned bool   `yaml:"require_signed"`
}

// Admin configures staff access.
type Admin struct {
	Token string `yaml:"token" secret:"true"`
	// HandoverTimeout is how long a conversation stays with staff after the
	// handover or the last staff message before the bot replies again.
	HandoverTimeout time.Duration `yaml:"handover_timeout"`
}

// Memory configures the user store.
type Memory struct {
	MaskStored    bool `yaml:"mask_stored"`
	RetentionDays int  `yaml:"retention_days"` // 0 keeps transcripts forever
}

// Retrieval configures the catalog index.
type Retrieval struct {
	Embedder   string `yaml:"embedder"` // local, openai or ollama
	EmbedModel string `yaml:"embed_model"`
	// CurrencyRates gives units of each currency per US dollar; they
	// convert a price bound a shopper states in another currency ("200元")
	// into the catalog's. The defaults are approximate; set your own.
	CurrencyRates map[string]float64 `yaml:"currency_rates"`
}

// Offers configures offers, experiments and the bandit.
type Offers struct {
	File              string        `yaml:"file"`
	ExperimentsFile   string        `yaml:"experiments_file"`
	ReloadInterval    time.Duration `yaml:"reload_interval"`
	AttributionWindow time.Duration `yaml:"attribution_window"`
	Exploration       float64       `yaml:"exploration"`
	MinImpressions    int           `yaml:"min_impressions"`
}

// Scenario configures segmentation.
type Scenario struct {
	Segments        int           `yaml:"segments"`
	SegmentInterval time.Duration `yaml:"segment_interval"`
}

// Load builds the configuration from the embedded defaults, then the file at
// path (skipped when path is empty), then the environment. It reports every
// invalid setting in one error.
func Load(path string, env []string) (Config, []string, error) {
	var cfg Config
	sources := []string{"embedded"}
	if err := decodeYAML(bytes.NewReader(File("concierge.yaml")), &cfg); err != nil {
		panic(fmt.Sprintf("configs: embedded concierge.yaml: %v", err))
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return cfg, sources, fmt.Errorf("open config: %w", err)
		}
		err = decodeYAML(f, &cfg)
		f.Close()
		if err != nil {
			return cfg, sources, fmt.Errorf("config %s: %w", path, err)
		}
		sources = append(sources, path)
	}
	applied, err := applyEnv(&cfg, env)
	if err != nil {
		return cfg, sources, err
	}
	if applied {
		sources = append(sources, "environment")
	}
	return cfg, sources, cfg.Validate()
}

func decodeYAML(r io.Reader, cfg *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// applyEnv sets fields from CONCIERGE_SECTION_KEY variables and from the
// usual provider variables. An unparsable value is an error, never a quiet
// fallback to the default.
func applyEnv(cfg *Config, env []string) (bool, error) {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	applied := false
	var errs []error
	root := reflect.ValueOf(cfg).Elem()
	for i := range root.NumField() {
		section := root.Type().Field(i)
		sv := root.Field(i)
		for j := range sv.NumField() {
			field := section.Type.Field(j)
			name := "CONCIERGE_" + strings.ToUpper(yamlName(section)+"_"+yamlName(field))
			v, ok := vars[name]
			if !ok {
				continue
			}
			if err := setField(sv.Field(j), v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, redactIf(field, v), err))
				continue
			}
			applied = true
		}
	}
	provider := cfg.LLM.Provider
	if v, ok := vars["OPENAI_API_KEY"]; ok && provider == "openai" && cfg.LLM.APIKey == "" {
		cfg.LLM.APIKey, applied = v, true
	}
	if v, ok := vars["OPENAI_BASE_URL"]; ok && provider == "openai" && cfg.LLM.BaseURL == "" {
		cfg.LLM.BaseURL, applied = v, true
	}
	if v, ok := vars["OLLAMA_HOST"]; ok && provider == "ollama" && cfg.LLM.BaseURL == "" {
		cfg.LLM.BaseURL, applied = v, true
	}
	return applied, errors.Join(errs...)
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func redactIf(f reflect.StructField, v string) string {
	if f.Tag.Get("secret") == "true" {
		return "REDACTED"
	}
	return v
}

func setField(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration such as 30s or 5m")
		}
		v.SetInt(int64(d))
		return nil
	case []string:
		var parts []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean: use true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// Validate reports every invalid setting, each with its key and the fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if c.Server.Addr == "" {
		bad("server.addr", "missing; set host:port such as localhost:8080")
	}
	if c.Server.DataDir == "" {
		bad("server.data_dir", "missing; set a directory such as ./data")
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	if !slices.Contains([]string{"offline", "openai", "ollama"}, c.LLM.Provider) {
		bad("llm.provider", "%q is not offline, openai or ollama", c.LLM.Provider)
	}
	if !slices.Contains([]string{"local", "openai", "ollama"}, c.Retrieval.Embedder) {
		bad("retrieval.embedder", "%q is not local, openai or ollama", c.Retrieval.Embedder)
	}
	positive := map[string]float64{
		"llm.timeout":                    c.LLM.Timeout.Seconds(),
		"bot.turn_timeout":               c.Bot.TurnTimeout.Seconds(),
		"bot.products":                   float64(c.Bot.Products),
		"web.max_frame_bytes":            float64(c.Web.MaxFrameBytes),
		"web.max_message_runes":          float64(c.Web.MaxMessageRunes),
		"web.messages_per_minute":        float64(c.Web.MessagesPerMinute),
		"web.messages_per_minute_per_ip": float64(c.Web.MessagesPerMinutePerIP),
		"web.events_per_minute":          float64(c.Web.EventsPerMinute),
		"web.max_conns_per_ip":           float64(c.Web.MaxConnsPerIP),
		"web.send_queue":                 float64(c.Web.SendQueue),
		"web.max_pending_messages":       float64(c.Web.MaxPendingMessages),
		"web.ping_interval":              c.Web.PingInterval.Seconds(),
		"web.pong_timeout":               c.Web.PongTimeout.Seconds(),
		"web.write_timeout":              c.Web.WriteTimeout.Seconds(),
		"server.shutdown_timeout":        c.Server.ShutdownTimeout.Seconds(),
		"offers.attribution_window":      c.Offers.AttributionWindow.Seconds(),
		"scenario.segments":              float64(c.Scenario.Segments),
		"admin.handover_timeout":         c.Admin.HandoverTimeout.Seconds(),
	}
	keys := make([]string, 0, len(positive))
	for k := range positive {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if positive[k] <= 0 {
			bad(k, "must be positive")
		}
	}
	if c.Web.PongTimeout <= c.Web.PingInterval {
		bad("web.pong_timeout", "%s must be longer than web.ping_interval %s", c.Web.PongTimeout, c.Web.PingInterval)
	}
	if c.LLM.MaxRetries < 0 {
		bad("llm.max_retries", "must not be negative")
	}
	if n := len(c.Admin.Token); n > 0 && n < 16 {
		bad("admin.token", "is %d characters; use at least 16 random characters, or leave it empty to generate one", n)
	}
	if c.Memory.RetentionDays < 0 {
		bad("memory.retention_days", "must not be negative; 0 keeps transcripts forever")
	}
	if c.Offers.Exploration < 0 {
		bad("offers.exploration", "must not be negative")
	}
	for code, rate := range c.Retrieval.CurrencyRates {
		if rate <= 0 || len(code) != 3 || strings.ToUpper(code) != code {
			bad("retrieval.currency_rates", "%s: %g is invalid; use a three-letter upper-case code and a positive rate", code, rate)
		}
	}
	if c.Identity.RequireSigned && c.Identity.JWTSecret == "" {
		bad("identity.require_signed", "needs identity.jwt_secret (CONCIERGE_IDENTITY_JWT_SECRET)")
	}
	for _, o := range c.Web.AllowedOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			bad("web.allowed_origins", "%q must start with http:// or https://, or be *", o)
		}
	}
	return errors.Join(errs...)
}

// Redacted returns a copy with every secret replaced, for logging the
// effective configuration.
func (c Config) Redacted() Config {
	r := c
	for _, s := range []*string{&r.LLM.APIKey, &r.Identity.Secret, &r.Identity.JWTSecret, &r.Admin.Token} {
		if *s != "" {
			*s = "REDACTED"
		}
	}
	return r
}
