package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	benchAdjectives = []string{"waterproof", "wireless", "organic", "stainless", "vintage", "compact",
		"heavy duty", "lightweight", "ergonomic", "cordless", "portable", "premium", "classic", "handmade"}
	benchNouns = []string{"boots", "headphones", "coffee mug", "backpack", "desk lamp", "drill", "jacket",
		"teapot", "cutting board", "scarf", "phone case", "water bottle", "office chair", "garden hose",
		"shower head", "ceiling fan", "kitchen faucet", "yoga mat", "sunglasses", "wallet"}
	benchMaterials = []string{"leather", "cotton", "steel", "bamboo", "ceramic", "copper", "wool", "glass"}
	benchBrands    = []string{"Trailmark", "Northpeak", "Homely", "Leafy", "Lumo", "Acme", "Fleetfoot"}
	benchChinese   = []string{"无线蓝牙耳机", "保温杯", "手机壳", "羊毛围巾", "登山鞋", "台灯", "双肩包", "茶具套装"}
	benchColors    = []string{"red", "blue", "black", "white", "green", "gray"}
	benchQueries   = []string{"waterproof hiking boots", "wireless headphones under 100",
		"蓝牙耳机 300元以内", "stainless steel water bottle", "gift for my mom who likes tea",
		"red wool scarf in stock", "cordless drill", "保温杯"}
)

// syntheticCatalog makes n products from realistic words, one in eight
// with a Chinese title.
func syntheticCatalog(n int) []Product {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	out := make([]Product, n)
	for i := range out {
		title := fmt.Sprintf("%s %s %s %s", pick(benchBrands), pick(benchAdjectives), pick(benchMaterials), pick(benchNouns))
		if i%8 == 0 {
			title = pick(benchChinese) + " " + pick(benchAdjectives)
		}
		out[i] = Product{
			ID:          fmt.Sprintf("sku-%07d", i),
			Title:       title,
			Description: strings.Join([]string{"A", pick(benchAdjectives), pick(benchNouns), "made of", pick(benchMaterials), "for everyday use."}, " "),
			Category:    "Home > " + pick(benchNouns),
			Brand:       pick(benchBrands),
			Color:       pick(benchColors),
			Tags:        []string{pick(benchAdjectives), pick(benchMaterials)},
			Price:       float64(5 + r.IntN(500)),
			Currency:    "USD",
			InStock:     r.IntN(5) > 0,
		}
	}
	return out
}

var benchSizes = []int{1000, 10000, 100000}

func BenchmarkSearch(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			ix, err := Open(b.Context(), "", Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Upsert(b.Context(), syntheticCatalog(n)); err != nil {
				b.Fatal(err)
			}
			runtime.GC() // collect the build's garbage outside the measured loop
			b.ReportAllocs()
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				q := Query{Text: benchQueries[i%len(benchQueries)], Limit: 10}
				if _, err := ix.Search(b.Context(), q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			reportLatency(b, took)
		})
	}
}

// BenchmarkSearchDense is BenchmarkSearch with a 256-dimensional dense
// embedder (hashedEmbedder), so the vector side is a chromem-go collection
// query instead of the sparse scorer. Query embedding is local and takes
// microseconds, so the figures leave out a model's latency.
func BenchmarkSearchDense(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			ix, err := Open(b.Context(), "", Options{Embedder: newHashedEmbedder(256)})
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Upsert(b.Context(), syntheticCatalog(n)); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.ReportAllocs()
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				q := Query{Text: benchQueries[i%len(benchQueries)], Limit: 10}
				if _, err := ix.Search(b.Context(), q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			reportLatency(b, took)
		})
	}
}

// reportLatency reports the median, 99th percentile and maximum of took.
func reportLatency(b *testing.B, took []time.Duration) {
	b.Helper()
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(took[len(took)-1].Microseconds()), "max-µs")
}

// BenchmarkSearchDuringUpsert runs searches while another goroutine keeps
// upserting five changed products into a persisted index, and reports the
// search latencies and how long each upsert took. A search must never wait
// for a write; its maximum shows the cost of sharing the CPU and the
// garbage collector with one.
func BenchmarkSearchDuringUpsert(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			catalog := syntheticCatalog(n)
			ix, err := Open(b.Context(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Upsert(b.Context(), catalog); err != nil {
				b.Fatal(err)
			}
			runtime.GC()

			stop := make(chan struct{})
			done := make(chan []time.Duration)
			go func() {
				var writes []time.Duration
				defer func() { done <- writes }()
				for round := 0; ; round++ {
					select {
					case <-stop:
						return
					default:
					}
					changed := make([]Product, 5)
					for k := range changed {
						changed[k] = catalog[(round*5+k)%n]
						changed[k].Title += fmt.Sprintf(" v%d", round)
					}
					start := time.Now()
					if err := ix.Upsert(context.Background(), changed); err != nil {
						b.Error(err)
						return
					}
					writes = append(writes, time.Since(start))
				}
			}()

			b.ReportAllocs()
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				q := Query{Text: benchQueries[i%len(benchQueries)], Limit: 10}
				if _, err := ix.Search(b.Context(), q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			close(stop)
			writes := <-done
			reportLatency(b, took)
			if len(writes) > 0 {
				slices.Sort(writes)
				b.ReportMetric(float64(writes[len(writes)/2].Milliseconds()), "upsert-p50-ms")
			}
			b.ReportMetric(float64(len(writes)), "upserts")
		})
	}
}

// BenchmarkOpen measures loading a persisted index with the local embedder
// and reports the heap bytes the loaded index keeps and the file bytes, per
// product. B/op is everything Open allocates, garbage included.
func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			benchmarkOpen(b, n, nil)
		})
	}
}

// BenchmarkOpenDense is BenchmarkOpen with 512-dimensional dense vectors,
// the shape of a small langchaingo embedding model's output.
func BenchmarkOpenDense(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			benchmarkOpen(b, n, foldedEmbedder{})
		})
	}
}

func benchmarkOpen(b *testing.B, n int, emb Embedder) {
	dir := b.TempDir()
	ix, err := Open(b.Context(), dir, Options{Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	if err := ix.Upsert(b.Context(), syntheticCatalog(n)); err != nil {
		b.Fatal(err)
	}
	ix.Close()
	info, err := os.Stat(filepath.Join(dir, snapshotFile))
	if err != nil {
		b.Fatal(err)
	}
	ix = nil

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	var loaded *Index
	for b.Loop() {
		loaded = nil
		loaded, err = Open(b.Context(), dir, Options{Embedder: emb})
		if err != nil {
			b.Fatal(err)
		}
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	if loaded.Len() != n {
		b.Fatalf("loaded %d products, want %d", loaded.Len(), n)
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heap-bytes/product")
	b.ReportMetric(float64(info.Size())/float64(n), "file-bytes/product")
	runtime.KeepAlive(loaded)
}

// BenchmarkLoadChromemExport reads the same 512-dimensional catalog from the
// chromem-go export that earlier versions wrote, for comparison with
// BenchmarkOpenDense.
func BenchmarkLoadChromemExport(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			products := syntheticCatalog(n)
			slices.SortFunc(products, func(x, y Product) int { return strings.Compare(x.ID, y.ID) })
			texts := make([]string, n)
			for i := range products {
				texts[i] = embeddingText(&products[i])
			}
			rows, err := foldedEmbedder{}.Embed(b.Context(), texts)
			if err != nil {
				b.Fatal(err)
			}
			if err := writeLegacySnapshot(dir, "folded-512", products, rows); err != nil {
				b.Fatal(err)
			}
			products, rows = nil, nil
			runtime.GC()
			b.ReportAllocs()
			for b.Loop() {
				snap, err := loadLegacySnapshot(dir)
				if err != nil {
					b.Fatal(err)
				}
				if len(snap.products) != n {
					b.Fatalf("loaded %d products, want %d", len(snap.products), n)
				}
			}
		})
	}
}

// BenchmarkEmbedQuery measures the local embedder's sparse features of a
// query, the form Search uses.
func BenchmarkEmbedQuery(b *testing.B) {
	e := localEmbedder{dim: localDim}
	b.ReportAllocs()
	for b.Loop() {
		if v := e.embedSparse("wireless noise cancelling headphones 蓝牙耳机"); len(v.idx) == 0 {
			b.Fatal("no features")
		}
	}
}

// BenchmarkUpsert measures upserting five changed products into a persisted
// index of N products, log append and fsync included.
func BenchmarkUpsert(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			benchmarkUpsert(b, n, nil)
		})
	}
}

// BenchmarkUpsertDense is BenchmarkUpsert with 512-dimensional dense
// vectors, embedded locally, so the figure excludes a model's latency.
func BenchmarkUpsertDense(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			benchmarkUpsert(b, n, foldedEmbedder{})
		})
	}
}

func benchmarkUpsert(b *testing.B, n int, emb Embedder) {
	catalog := syntheticCatalog(n)
	ix, err := Open(b.Context(), b.TempDir(), Options{Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	if err := ix.Upsert(b.Context(), catalog); err != nil {
		b.Fatal(err)
	}
	runtime.GC()

	b.ReportAllocs()
	round := 0
	for b.Loop() {
		changed := make([]Product, 5)
		for k := range changed {
			changed[k] = catalog[(round*5+k)%n]
			changed[k].Title += fmt.Sprintf(" v%d", round)
		}
		if err := ix.Upsert(b.Context(), changed); err != nil {
			b.Fatal(err)
		}
		round++
	}
}
