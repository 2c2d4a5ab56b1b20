package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/bot/llm"
	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
	"github.com/concierge-chat/concierge/web"
)

// testSecret signs visitor ids in every test server.
var testSecret = []byte("wstest-visitor-secret-0123456789")

// jwtSecret verifies user tokens in the identity tests.
var jwtSecret = []byte("store-backend-jwt-secret")

// The detector trains two classifiers from configs/training, which takes
// a moment, and is safe for concurrent use, so the tests share one.
var (
	detectorOnce sync.Once
	detector     *scenario.Detector
	detectorErr  error
)

func sharedDetector(t testing.TB) *scenario.Detector {
	t.Helper()
	detectorOnce.Do(func() {
		intents, err := scenario.ReadExamples(bytes.NewReader(configs.File("training/intent.jsonl")), "jsonl", "", "")
		if err != nil {
			detectorErr = err
			return
		}
		emotions, err := scenario.ReadExamples(bytes.NewReader(configs.File("training/emotion.jsonl")), "jsonl", "", "")
		if err != nil {
			detectorErr = err
			return
		}
		detector, detectorErr = scenario.NewDetector(scenario.Options{
			IntentExamples: intents, EmotionExamples: emotions})
	})
	if detectorErr != nil {
		t.Fatalf("train scenario detector: %v", detectorErr)
	}
	return detector
}

// envOptions configures newEnv. The zero value is an offline server over
// the test catalog with default limits.
type envOptions struct {
	// dir holds the bbolt file and the index; empty means t.TempDir().
	dir string
	// fake, when set, is the OpenAI-compatible server the engine calls.
	fake        *llmtest.Server
	turnTimeout time.Duration
	web         web.Config
	identity    web.IdentityOptions
	ready       func() bool
	// noCatalog skips importing testdata/catalog.jsonl into a new index.
	noCatalog bool
	// denseEmbeddings is the fake server the index embeds through with
	// langchaingo's OpenAI client, so vector search runs in a chromem-go
	// collection. Nil uses the built-in local embedder.
	denseEmbeddings *llmtest.Server
	// embeddingCalls counts the dense embedder's requests when it is set.
	embeddingCalls *atomic.Int64
}

// env is a running server with real components: a bbolt store, the
// retrieval index (chromem-go for dense embedders), the trained detector, the offer picker over
// configs/offers.yaml and, optionally, langchaingo's OpenAI client against
// a fake server.
type env struct {
	t      *testing.T
	dir    string
	store  *memory.Store
	index  *retrieval.Index
	engine *bot.Engine
	srv    *web.Server
	ts     *httptest.Server
	// URL is the httptest server's base URL.
	URL string

	stopOnce sync.Once
}

func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	checkConnLeaks(t)
	if opts.dir == "" {
		opts.dir = t.TempDir()
	}
	e := &env{t: t, dir: opts.dir}
	ctx := context.Background()

	store, err := memory.Open(filepath.Join(opts.dir, "concierge.db"), memory.Options{})
	if err != nil {
		t.Fatalf("open memory store: %v", err)
	}
	e.store = store
	t.Cleanup(e.stop)

	var indexOpts retrieval.Options
	if opts.denseEmbeddings != nil {
		if opts.embeddingCalls == nil {
			opts.embeddingCalls = new(atomic.Int64)
		}
		indexOpts.Embedder = denseEmbedder(t, opts.denseEmbeddings.URL, opts.embeddingCalls)
	}
	e.index, err = retrieval.Open(ctx, filepath.Join(opts.dir, "catalog"), indexOpts)
	if err != nil {
		t.Fatalf("open catalog index: %v", err)
	}
	if e.index.Len() == 0 && !opts.noCatalog {
		upsertCatalog(t, e.index)
	}

	e.engine = newEngine(t, store, e.index, opts)
	ident := opts.identity
	if ident.Secret == nil {
		ident.Secret = testSecret
	}
	identity, err := web.NewIdentity(ident)
	if err != nil {
		t.Fatalf("new identity: %v", err)
	}
	e.srv, err = web.New(web.Options{Config: opts.web, Engine: e.engine, Identity: identity,
		Ready: opts.ready})
	if err != nil {
		t.Fatalf("new web server: %v", err)
	}
	e.ts = httptest.NewServer(e.srv.Handler())
	e.URL = e.ts.URL
	return e
}

func newEngine(t *testing.T, store *memory.Store, ix *retrieval.Index, opts envOptions) *bot.Engine {
	t.Helper()
	offers, err := offer.ParseOffers(configs.File("offers.yaml"))
	if err != nil {
		t.Fatalf("parse offers: %v", err)
	}
	picker, err := offer.NewPicker(offers, offer.Options{State: store,
		IsNotFound: func(err error) bool { return errors.Is(err, memory.ErrNotFound) }})
	if err != nil {
		t.Fatalf("new offer picker: %v", err)
	}
	var provider llm.Provider
	if opts.fake != nil {
		provider, err = llm.New(llm.Config{Provider: llm.ProviderOpenAI, Model: "test-model",
			BaseURL: opts.fake.URL + "/v1", MaxRetries: -1})
		if err != nil {
			t.Fatalf("new openai provider: %v", err)
		}
	}
	prompt, err := bot.ParsePrompt(string(configs.File("prompts/system.tmpl")))
	if err != nil {
		t.Fatalf("parse prompt: %v", err)
	}
	engine, err := bot.New(bot.Options{Memory: store, Catalog: ix, Detector: sharedDetector(t),
		Offers: picker, Provider: provider, Prompt: prompt, StoreName: "Test Store",
		TurnTimeout: opts.turnTimeout})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	return engine
}

func upsertCatalog(t testing.TB, ix *retrieval.Index) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "catalog.jsonl"))
	if err != nil {
		t.Fatalf("read test catalog: %v", err)
	}
	res, err := retrieval.Import(bytes.NewReader(data), "catalog.jsonl", retrieval.ImportOptions{Format: retrieval.FormatJSONL})
	if err != nil {
		t.Fatalf("import test catalog: %v", err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("test catalog has bad rows: %v", res.Errors)
	}
	if err := ix.Upsert(context.Background(), res.Products); err != nil {
		t.Fatalf("upsert test catalog: %v", err)
	}
}

// stop shuts the server down, then closes the index and the store. It is
// safe to call more than once, and runs at cleanup.
func (e *env) stop() {
	e.stopOnce.Do(func() {
		if e.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := e.srv.Shutdown(ctx); err != nil {
				e.t.Errorf("shut down web server: %v", err)
			}
			cancel()
		}
		if e.ts != nil {
			e.ts.Close()
		}
		if e.index != nil {
			if err := e.index.Close(); err != nil {
				e.t.Errorf("close index: %v", err)
			}
		}
		// A test may have closed the store itself to inject failures.
		if err := e.store.Check(); err != nil && !errors.Is(err, memory.ErrClosed) {
			e.t.Errorf("memory store consistency check: %v", err)
		}
		if err := e.store.Close(); err != nil && !errors.Is(err, memory.ErrClosed) {
			e.t.Errorf("close memory store: %v", err)
		}
	})
}

// history returns the user's stored messages.
func (e *env) history(userID string) []memory.Message {
	e.t.Helper()
	msgs, err := e.store.History(context.Background(), userID, 0, 0)
	if err != nil {
		e.t.Fatalf("load history of %s: %v", userID, err)
	}
	return msgs
}

// checkConnLeaks fails the test when connection goroutines of package web
// are still running a few seconds after the test's other cleanups. It
// polls, because the goroutines end asynchronously after the socket closes.
func checkConnLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			stacks := connGoroutines()
			if stacks == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("connection goroutines still running after the test:\n%s", stacks)
				return
			}
			runtime.Gosched()
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func connGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "concierge/web.(*conn)") {
			leaked = append(leaked, g)
		}
	}
	return strings.Join(leaked, "\n\n")
}

// denseEmbedder returns langchaingo's OpenAI embeddings client on the fake
// server at url, as the server builds it for retrieval.embedder: openai,
// and counts its embedding requests in calls.
func denseEmbedder(t *testing.T, url string, calls *atomic.Int64) retrieval.Embedder {
	t.Helper()
	client, err := openai.New(openai.WithBaseURL(url+"/v1"), openai.WithToken("test-key"),
		openai.WithEmbeddingModel("fake-embedding"), openai.WithHTTPClient(countingClient{calls}))
	if err != nil {
		t.Fatalf("openai.New: %v", err)
	}
	emb, err := embeddings.NewEmbedder(client)
	if err != nil {
		t.Fatalf("embeddings.NewEmbedder: %v", err)
	}
	return retrieval.NewLangchainEmbedder(emb, "openai:fake-embedding")
}

// countingClient counts the requests it sends to an embeddings endpoint.
type countingClient struct {
	calls *atomic.Int64
}

func (c countingClient) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/embeddings") {
		c.calls.Add(1)
	}
	return http.DefaultClient.Do(req)
}
