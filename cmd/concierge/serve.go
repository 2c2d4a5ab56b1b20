package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
	"github.com/concierge-chat/concierge/web"
	"github.com/concierge-chat/concierge/web/admin"
)

// Files under the data directory.
const (
	storeFile    = "concierge.db"
	indexDir     = "catalog"
	identityFile = "identity.key"
)

func serve(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", "", "`host:port` to listen on (default from config: localhost:8080)")
	dataDir := fs.String("data", "", "data `directory` for the store and the index (default from config: ./data)")
	configFile := fs.String("config", "", "YAML config `file` layered over the embedded defaults")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, sources, err := configs.Load(*configFile, env)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if *addr != "" {
		cfg.Server.Addr = *addr
		sources = append(sources, "flags")
	}
	if *dataDir != "" {
		cfg.Server.DataDir = *dataDir
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	app, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; pick another address with -addr", cfg.Server.Addr, err)
	}
	srv := &http.Server{Handler: app.web.Handler(), ReadHeaderTimeout: 10 * time.Second}
	// Shutdown waits for open requests, and staff event streams never end
	// by themselves.
	srv.RegisterOnShutdown(app.admin.Close)
	// The background jobs start before the first request, so the staff
	// console's on-demand segment run finds its job.
	app.stopRetention = startRetention(cfg.Memory, app.store, log.With("component", "retention"))
	app.segments = startSegmentJob(ctx, app.store, cfg.Scenario, log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// Show the address as configured (localhost:8080), unless the port was
	// chosen by the system.
	displayAddr := cfg.Server.Addr
	if strings.HasSuffix(displayAddr, ":0") {
		displayAddr = ln.Addr().String()
	}
	fmt.Fprintf(stdout, "Concierge is listening on http://%s (data in %s)\n", displayAddr, cfg.Server.DataDir)
	fmt.Fprintf(stdout, "Staff console: http://%s/admin. %s\n", displayAddr, app.adminNotice)
	log.Info("server started", "version", version(), "go", runtime.Version(), "addr", ln.Addr().String(),
		"data_dir", cfg.Server.DataDir, "config_sources", sources, "provider", cfg.LLM.Provider,
		"model", app.model, "catalog", "loading")
	log.Debug("effective config", "config", cfg.Redacted())
	warnRisky(log, cfg)
	go app.loadCatalog(ctx, cfg)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown(srv, app, cfg.Server.ShutdownTimeout, log)
}

// shutdown stops accepting, lets streaming turns finish until the
// deadline, closes connections with 1001 and then the stores.
func shutdown(srv *http.Server, app *app, timeout time.Duration, log *slog.Logger) error {
	start := time.Now()
	log.Info("shutdown started", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// http.Server.Shutdown neither closes nor waits for hijacked
	// connections, so the WebSocket server drains them itself.
	httpErr := srv.Shutdown(ctx)
	conns := app.web.Connections()
	wsErr := app.web.Shutdown(ctx)
	if wsErr != nil {
		log.Error("shutdown deadline cut turns short", "error", wsErr)
	}
	select {
	case <-app.loadDone:
	case <-ctx.Done():
	}
	err := app.Close()
	log.Info("shutdown finished", "duration_ms", time.Since(start).Milliseconds(), "connections", conns)
	return errors.Join(httpErr, err)
}

func warnRisky(log *slog.Logger, cfg configs.Config) {
	if cfg.Log.Content {
		log.Warn("message text is logged at debug level", "setting", "log.content")
	}
	if cfg.LLM.Provider == "offline" {
		log.Info("no LLM configured; the offline responder answers", "setting", "llm.provider")
	}
}

func newLogger(c configs.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level %q: %w", c.Level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// app holds every component of a running server, in the order they close.
type app struct {
	log     *slog.Logger
	store   *memory.Store
	picker  *offer.Picker
	catalog *lazyCatalog
	engine  *bot.Engine
	web     *web.Server
	model   string

	reports       experimentReports
	admin         *admin.Handler
	adminLive     liveUsers
	adminNotice   string // start-up line about the staff token
	stopRetention func() // nil until serve starts the retention job

	segments *SegmentJob // nil until serve starts the segment job

	mu       sync.Mutex
	index    *retrieval.Index // guarded by mu; nil until loadCatalog finishes
	closed   bool             // guarded by mu
	loadDone chan struct{}    // closed when loadCatalog returns
}

// openApp builds every component from cfg. The catalog index loads in the
// background (loadCatalog) so that /readyz can report it.
func openApp(ctx context.Context, cfg configs.Config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.Server.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	a := &app{log: log, catalog: &lazyCatalog{}, loadDone: make(chan struct{})}
	var err error
	mask := func(s string) string { return s }
	storeOpts := memory.Options{Logger: log.With("component", "memory")}
	if cfg.Memory.MaskStored {
		storeOpts.MaskStored = memory.MaskPII
	}
	mask = memory.MaskPII
	a.store, err = memory.Open(filepath.Join(cfg.Server.DataDir, storeFile), storeOpts)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	detector, err := newDetector(log)
	if err != nil {
		a.Close()
		return nil, err
	}
	picker, experiment, err := newOffers(ctx, cfg, a.store, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.picker = picker
	a.reports = experimentReports{store: a.store, experiment: experiment,
		window: cfg.Offers.AttributionWindow}
	provider, err := llm.New(llm.Config{
		Provider: cfg.LLM.Provider, Model: cfg.LLM.Model, BaseURL: cfg.LLM.BaseURL,
		APIKey: cfg.LLM.APIKey, Timeout: cfg.LLM.Timeout, MaxRetries: cfg.LLM.MaxRetries,
		Logger: log.With("component", "llm"),
	})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("llm: %w", err)
	}
	if provider != nil {
		a.model = provider.Model()
	}
	prompt, err := loadPrompt(cfg.Bot.PromptFile)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.engine, err = bot.New(bot.Options{
		Memory: a.store, Catalog: a.catalog, Detector: detector, Offers: picker,
		Experiment: experiment, Provider: provider, Prompt: prompt,
		StoreName: "Concierge Demo Store", TurnTimeout: cfg.Bot.TurnTimeout,
		HistoryMessages: cfg.Bot.HistoryMessages, Products: cfg.Bot.Products,
		Temperature: cfg.LLM.Temperature, MaxTokens: cfg.LLM.MaxTokens,
		AttributionWindow: cfg.Offers.AttributionWindow, Mask: mask, LogContent: cfg.Log.Content,
		CurrencyRates:   cfg.Retrieval.CurrencyRates,
		HandoverTimeout: cfg.Admin.HandoverTimeout, Logger: log.With("component", "bot"),
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	identity, err := newIdentity(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	if err := a.newAdmin(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	a.web, err = web.New(web.Options{
		Config: webConfig(cfg.Web), Engine: a.engine, Identity: identity,
		Ready: a.catalog.Ready, Logger: log.With("component", "web"),
		Admin: a.admin, OnMessage: a.admin.Publish,
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.adminLive.set(a.web)
	return a, nil
}

// loadCatalog opens the index and, on first start, imports the demo
// catalog. Until it finishes, turns run with no products.
func (a *app) loadCatalog(ctx context.Context, cfg configs.Config) {
	defer close(a.loadDone)
	start := time.Now()
	ix, err := openIndex(ctx, cfg)
	if err != nil {
		a.log.Error("open catalog index failed", "error", err)
		return
	}
	if ix.Len() == 0 && cfg.Server.ImportDemoCatalog {
		if err := importDemoCatalog(ctx, ix); err != nil {
			a.log.Error("import demo catalog failed", "error", err)
		} else {
			a.log.Info("demo catalog imported", "products", ix.Len())
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		ix.Close()
		return
	}
	a.index = ix
	a.catalog.set(ix)
	a.log.Info("catalog ready", "products", ix.Len(), "duration_ms", time.Since(start).Milliseconds())
}

func openIndex(ctx context.Context, cfg configs.Config) (*retrieval.Index, error) {
	dir := filepath.Join(cfg.Server.DataDir, indexDir)
	emb, err := newEmbedder(cfg)
	if err != nil {
		return nil, err
	}
	ix, err := retrieval.Open(ctx, dir, retrieval.Options{Embedder: emb})
	if err != nil {
		return nil, fmt.Errorf("open catalog index in %s: %w", dir, err)
	}
	return ix, nil
}

func importDemoCatalog(ctx context.Context, ix *retrieval.Index) error {
	res, err := retrieval.Import(bytes.NewReader(configs.File("catalog/demo.jsonl")), "demo.jsonl",
		retrieval.ImportOptions{Format: "jsonl"})
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("bundled catalog has %d bad rows, first: %w", len(res.Errors), res.Errors[0])
	}
	return ix.Upsert(ctx, res.Products)
}

// Close closes the components in reverse order of use; it is safe to call
// more than once.
func (a *app) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	if a.stopRetention != nil {
		a.stopRetention()
	}
	if a.segments != nil {
		a.segments.Stop()
	}
	var errs []error
	if a.picker != nil {
		// Impressions without a click are learned in memory; Flush saves
		// them before the store closes.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, a.picker.Flush(ctx))
		cancel()
	}
	if a.index != nil {
		errs = append(errs, a.index.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}

func newDetector(log *slog.Logger) (*scenario.Detector, error) {
	intents, err := scenario.ReadExamples(bytes.NewReader(configs.File("training/intent.jsonl")), "jsonl", "", "")
	if err != nil {
		return nil, fmt.Errorf("embedded intent examples: %w", err)
	}
	emotions, err := scenario.ReadExamples(bytes.NewReader(configs.File("training/emotion.jsonl")), "jsonl", "", "")
	if err != nil {
		return nil, fmt.Errorf("embedded emotion examples: %w", err)
	}
	return scenario.NewDetector(scenario.Options{IntentExamples: intents, EmotionExamples: emotions,
		Logger: log.With("component", "scenario")})
}

func loadPrompt(path string) (*template.Template, error) {
	text := configs.File("prompts/system.tmpl")
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("bot.prompt_file: %w", err)
		}
		text = data
	}
	t, err := bot.ParsePrompt(string(text))
	if err != nil {
		return nil, fmt.Errorf("prompt template: %w", err)
	}
	return t, nil
}

// newIdentity uses identity.secret, or a secret generated once and kept in
// the data directory so visitor ids survive restarts.
func newIdentity(cfg configs.Config) (*web.Identity, error) {
	secret := []byte(cfg.Identity.Secret)
	if len(secret) == 0 {
		path := filepath.Join(cfg.Server.DataDir, identityFile)
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			secret = data
		case errors.Is(err, os.ErrNotExist):
			secret = make([]byte, 32)
			rand.Read(secret)
			if err := os.WriteFile(path, secret, 0o600); err != nil {
				return nil, fmt.Errorf("write identity secret: %w", err)
			}
		default:
			return nil, fmt.Errorf("read identity secret: %w", err)
		}
	}
	return web.NewIdentity(web.IdentityOptions{Secret: secret,
		JWTSecret: []byte(cfg.Identity.JWTSecret), RequireSigned: cfg.Identity.RequireSigned})
}

func webConfig(c configs.Web) web.Config {
	return web.Config{
		AllowedOrigins: c.AllowedOrigins, RequireOrigin: c.RequireOrigin,
		MaxFrameBytes: int(c.MaxFrameBytes), MaxMessageRunes: c.MaxMessageRunes,
		MessagesPerMinute: c.MessagesPerMinute, MessagesPerMinutePerIP: c.MessagesPerMinutePerIP,
		EventsPerMinute: c.EventsPerMinute,
		MaxConnsPerIP:   c.MaxConnsPerIP, SendQueue: c.SendQueue, MaxPendingMessages: c.MaxPendingMessages,
		PingInterval: c.PingInterval, PongTimeout: c.PongTimeout, WriteTimeout: c.WriteTimeout,
	}
}

// lazyCatalog returns empty search results until the index is loaded.
type lazyCatalog struct {
	ix atomic.Pointer[retrieval.Index]
}

func (c *lazyCatalog) set(ix *retrieval.Index) { c.ix.Store(ix) }

func (c *lazyCatalog) Ready() bool { return c.ix.Load() != nil }

func (c *lazyCatalog) Len() int {
	if ix := c.ix.Load(); ix != nil {
		return ix.Len()
	}
	return 0
}

func (c *lazyCatalog) Search(ctx context.Context, q retrieval.Query) (retrieval.Result, error) {
	if ix := c.ix.Load(); ix != nil {
		return ix.Search(ctx, q)
	}
	return retrieval.Result{}, nil
}

func (c *lazyCatalog) Get(id string) (retrieval.Product, bool) {
	if ix := c.ix.Load(); ix != nil {
		return ix.Get(id)
	}
	return retrieval.Product{}, false
}

func (c *lazyCatalog) Products() []retrieval.Product {
	if ix := c.ix.Load(); ix != nil {
		return ix.Products()
	}
	return nil
}
