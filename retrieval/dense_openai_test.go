package retrieval

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/concierge-chat/concierge/bot/llm/llmtest"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"
)

// countingDoer counts the embedding requests that a langchaingo client
// sends.
type countingDoer struct {
	embeddings atomic.Int64
}

func (d *countingDoer) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/embeddings") {
		d.embeddings.Add(1)
	}
	return http.DefaultClient.Do(req)
}

// openAIEmbedder returns an Embedder over langchaingo's OpenAI client
// talking to a fake OpenAI-compatible server on loopback.
func openAIEmbedder(t *testing.T, url string, doer *countingDoer) Embedder {
	t.Helper()
	client, err := openai.New(openai.WithBaseURL(url+"/v1"), openai.WithToken("test-key"),
		openai.WithEmbeddingModel("fake-embedding"), openai.WithHTTPClient(doer))
	if err != nil {
		t.Fatalf("openai.New: %v", err)
	}
	emb, err := embeddings.NewEmbedder(client)
	if err != nil {
		t.Fatalf("embeddings.NewEmbedder: %v", err)
	}
	return NewLangchainEmbedder(emb, "openai:fake-embedding-16")
}

func TestOpenWithOpenAIEmbedder(t *testing.T) {
	server := llmtest.NewOpenAI(t)
	dir := t.TempDir()
	products := loadFixture(t)

	doer := &countingDoer{}
	ix := openIndex(t, dir, Options{Embedder: openAIEmbedder(t, server.URL, doer)})
	if err := ix.Replace(t.Context(), products); err != nil {
		t.Fatalf("index catalog: %v", err)
	}
	if doer.embeddings.Load() == 0 {
		t.Fatal("indexing sent no embedding request")
	}
	if coll := ix.cur.Load().vectors.dense.coll; coll.Count() != len(products) {
		t.Errorf("collection holds %d documents, want %d", coll.Count(), len(products))
	}
	search := func(ix *Index, text, want string) {
		t.Helper()
		res, err := ix.Search(t.Context(), Query{Text: text, Limit: 3})
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		if len(res.Hits) == 0 || res.Hits[0].Product.ID != want {
			t.Fatalf("search %q = %v, want %s first", text, hitIDs(res), want)
		}
		if res.Hits[0].VectorScore <= 0 {
			t.Errorf("search %q: vector score of %s = %v, want > 0", text, want, res.Hits[0].VectorScore)
		}
	}
	search(ix, "waterproof hiking boots", "p-boot-1")
	ix.Close()

	reopened := &countingDoer{}
	ix = openIndex(t, dir, Options{Embedder: openAIEmbedder(t, server.URL, reopened)})
	if ix.Len() != len(products) {
		t.Errorf("reopened index has %d products, want %d", ix.Len(), len(products))
	}
	if n := reopened.embeddings.Load(); n != 0 {
		t.Errorf("reopening an unchanged catalog sent %d embedding requests, want 0", n)
	}
	search(ix, "ceramic coffee mug", "p-mug-1")
	queries := reopened.embeddings.Load()

	added := Product{ID: "p-kettle-1", Title: "Copper Tea Kettle", Description: "A whistling kettle for the stove.",
		Category: "Kitchen > Tea", Price: 45, InStock: true}
	if err := ix.Upsert(t.Context(), []Product{added}); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	if n := reopened.embeddings.Load() - queries; n != 1 {
		t.Errorf("upserting one product sent %d embedding requests, want 1", n)
	}
	search(ix, "copper tea kettle", added.ID)
	search(ix, "waterproof hiking boots", "p-boot-1")
}
