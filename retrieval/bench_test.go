package retrieval

import (
	"fmt"
	"math/rand/v2"
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
				if _, err := ix.Search(b.Context(), Query{Text: benchQueries[i%len(benchQueries)], Limit: 10}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkOpen measures loading a persisted index and reports the heap
// bytes the loaded index keeps per product.
func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			ix, err := Open(b.Context(), dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Upsert(b.Context(), syntheticCatalog(n)); err != nil {
				b.Fatal(err)
			}
			ix.Close()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			var loaded *Index
			for b.Loop() {
				loaded, err = Open(b.Context(), dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if loaded.Len() != n {
				b.Fatalf("loaded %d products, want %d", loaded.Len(), n)
			}
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-bytes/product")
			runtime.KeepAlive(loaded)
		})
	}
}

func BenchmarkEmbedQuery(b *testing.B) {
	e := NewLocalEmbedder()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(b.Context(), []string{"wireless noise cancelling headphones 蓝牙耳机"}); err != nil {
			b.Fatal(err)
		}
	}
}
