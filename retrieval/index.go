package retrieval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by an Index method called after Close.
var ErrClosed = errors.New("index closed")

// ErrInvalidProduct is returned by Upsert and Replace when a product has no
// ID or no title.
var ErrInvalidProduct = errors.New("invalid product")

// Options configures Open.
type Options struct {
	// Embedder computes product and query vectors. Nil means the built-in
	// local embedder (NewLocalEmbedder).
	Embedder Embedder
	// Logger receives load and write events. Nil discards them.
	Logger *slog.Logger

	// config changes the ranking for evaluation runs; see searchConfig.
	config searchConfig
}

// Index is a product catalog with hybrid keyword and vector search,
// persisted as a snapshot file and a write-ahead log under its directory.
// It is safe for concurrent use.
// Writes (Upsert, Delete, Replace) run one at a time and build the new
// search state aside; Search and the read methods read an immutable
// snapshot and never wait for a write.
type Index struct {
	dir      string
	embedder Embedder
	log      *slog.Logger
	cfg      *searchConfig

	// writeMu serializes writers and guards closed and generation.
	writeMu sync.Mutex
	closed  bool
	// generation is the snapshot generation that the write-ahead log
	// extends.
	generation uint64

	cur atomic.Pointer[state]
}

// Open loads the index persisted under dir and replays its write-ahead log,
// or creates an empty index when dir holds none. An empty dir keeps the
// index in memory only. When the stored vectors were made by an embedder of
// another name or kind, Open re-embeds the catalog and saves it. Otherwise
// it embeds nothing.
func Open(ctx context.Context, dir string, opts Options) (*Index, error) {
	if opts.Embedder == nil {
		opts.Embedder = NewLocalEmbedder()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ix := &Index{dir: dir, embedder: opts.Embedder, log: opts.Logger, cfg: &opts.config}
	ix.cur.Store(newState(nil, vectors{}, ix.cfg))
	if dir == "" {
		return ix, nil
	}

	snap, err := loadSnapshot(dir)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	legacy := false
	if snap == nil {
		snap, err = loadLegacySnapshot(dir)
		if err != nil {
			return nil, fmt.Errorf("open index %s: %w", dir, err)
		}
		legacy = snap != nil
	}
	if snap == nil {
		return ix, nil
	}
	if err := ix.adopt(ctx, snap); err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	if legacy {
		if err := ix.migrate(snap); err != nil {
			return nil, fmt.Errorf("open index %s: %w", dir, err)
		}
	}
	return ix, nil
}

// adopt makes a loaded snapshot the index's state. When the vectors were
// made by an embedder of another name or kind, it re-embeds the catalog and
// saves it.
func (ix *Index) adopt(ctx context.Context, snap *snapshot) error {
	ix.generation = snap.generation
	recs, torn, err := readLog(ix.dir, snap.generation)
	if err != nil {
		return err
	}
	se, sparse := ix.embedder.(sparseEmbedder)
	// A log extends a non-empty snapshot only, because only incremental
	// upserts write one.
	if snap.embedder == ix.embedder.Name() && snap.sparse == sparse && (len(recs) == 0 || len(snap.products) > 0) {
		vecs, err := snap.vectors(ctx)
		if err != nil {
			return err
		}
		st := newState(snap.products, vecs, ix.cfg)
		for _, rec := range recs {
			st = st.withUpserts(rec.Products, replayVectors(rec, se))
		}
		ix.cur.Store(st)
		ix.log.Info("index loaded", "dir", ix.dir, "products", len(st.products), "embedder", snap.embedder,
			"log_records", len(recs))
		if torn {
			ix.log.Warn("index log ends in a torn record, dropping it", "dir", ix.dir, "file", logFile)
			return ix.write(ctx, func(old map[string]Product) []Product { return slices.Collect(maps.Values(old)) })
		}
		return nil
	}

	products := snap.products
	for _, rec := range recs {
		products = mergeProducts(products, rec.Products)
	}
	ix.log.Info("embedder changed, re-embedding catalog", "dir", ix.dir,
		"from", snap.embedder, "to", ix.embedder.Name(), "products", len(products))
	if err := ix.write(ctx, func(map[string]Product) []Product { return products }); err != nil {
		return fmt.Errorf("re-embed: %w", err)
	}
	return nil
}

// replayVectors returns the vector function for replaying rec: the logged
// vector of each product, or a new sparse embedding when the record has
// none. A record written by a dense embedder has a vector for every product
// whose text changed.
func replayVectors(rec logRecord, se sparseEmbedder) func(*Product) productVector {
	byID := make(map[string]productVector, len(rec.Products))
	for i, p := range rec.Products {
		switch {
		case rec.Values[i] == nil:
		case rec.Indexes[i] == nil:
			byID[p.ID] = productVector{dense: rec.Values[i]}
		default:
			byID[p.ID] = productVector{sparse: sparseVector{idx: rec.Indexes[i], val: rec.Values[i]}}
		}
	}
	return func(p *Product) productVector {
		if v, ok := byID[p.ID]; ok || se == nil {
			return v
		}
		return productVector{sparse: se.embedSparse(embeddingText(p))}
	}
}

// mergeProducts returns products with each of upserts replacing the
// product of its ID or appended.
func mergeProducts(products, upserts []Product) []Product {
	byID := make(map[string]int, len(products))
	out := slices.Clone(products)
	for i, p := range out {
		byID[p.ID] = i
	}
	for _, p := range upserts {
		if i, ok := byID[p.ID]; ok {
			out[i] = p
			continue
		}
		byID[p.ID] = len(out)
		out = append(out, p)
	}
	return out
}

// migrate replaces a chromem-go export read at Open with the current file
// format.
func (ix *Index) migrate(snap *snapshot) error {
	if err := ix.persist(ix.cur.Load()); err != nil {
		return fmt.Errorf("migrate %s: %w", legacySnapshotFile, err)
	}
	if err := os.Remove(filepath.Join(ix.dir, legacySnapshotFile)); err != nil {
		return fmt.Errorf("migrate %s: %w", legacySnapshotFile, err)
	}
	ix.log.Info("index file migrated", "dir", ix.dir, "from", legacySnapshotFile, "to", snapshotFile,
		"products", len(snap.products))
	return nil
}

// Upsert adds products or replaces those with the same ID. It returns after
// the new catalog is persisted. Products whose embedded text is unchanged
// keep their vectors. A small upsert patches the search structures instead
// of rebuilding them (see maxIncrementalShare).
func (ix *Index) Upsert(ctx context.Context, products []Product) error {
	if err := validateProducts(products); err != nil {
		return fmt.Errorf("upsert products: %w", err)
	}
	if done, err := ix.patch(ctx, products); done || err != nil {
		if err != nil {
			return fmt.Errorf("upsert %d products: %w", len(products), err)
		}
		return nil
	}
	err := ix.write(ctx, func(old map[string]Product) []Product {
		next := maps.Clone(old)
		for _, p := range products {
			next[p.ID] = p
		}
		return slices.Collect(maps.Values(next))
	})
	if err != nil {
		return fmt.Errorf("upsert %d products: %w", len(products), err)
	}
	return nil
}

// patch applies an upsert incrementally and reports whether it did; it
// declines when the current state cannot be patched.
func (ix *Index) patch(ctx context.Context, products []Product) (bool, error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if ix.closed {
		return true, ErrClosed
	}
	old := ix.cur.Load()
	if !old.canPatch(len(products)) {
		return false, nil
	}
	vecs, err := ix.patchVectors(ctx, old, products)
	if err != nil {
		return true, err
	}
	st := old.withUpserts(products, func(p *Product) productVector { return vecs[p.ID] })

	rec := logRecord{Products: products, Indexes: make([][]uint32, len(products)),
		Values: make([][]float32, len(products))}
	for i, p := range products {
		v, ok := vecs[p.ID]
		switch {
		case !ok:
		case v.dense != nil:
			rec.Values[i] = v.dense
		default:
			rec.Indexes[i], rec.Values[i] = v.sparse.idx, v.sparse.val
		}
	}
	if ix.dir != "" {
		if err := appendLog(ix.dir, ix.generation, rec); err != nil {
			return true, err
		}
	}
	ix.cur.Store(st)
	ix.log.Info("index updated", "products", len(st.products), "upserted", len(products), "incremental", true)
	return true, nil
}

// patchVectors embeds the upserted products whose embedded text differs
// from their current version in old, keyed by product ID. The last upsert
// of an ID wins.
func (ix *Index) patchVectors(ctx context.Context, old *state, products []Product) (map[string]productVector, error) {
	latest := make(map[string]*Product, len(products))
	for i := range products {
		latest[products[i].ID] = &products[i]
	}
	var changed []*Product
	for _, p := range latest {
		if j, ok := old.byID[p.ID]; !ok || !sameEmbeddingText(old.products[j], p) {
			changed = append(changed, p)
		}
	}

	vecs := make(map[string]productVector, len(changed))
	if se, ok := ix.embedder.(sparseEmbedder); ok {
		for _, p := range changed {
			vecs[p.ID] = productVector{sparse: se.embedSparse(embeddingText(p))}
		}
		return vecs, nil
	}
	texts := make([]string, len(changed))
	for i, p := range changed {
		texts[i] = embeddingText(p)
	}
	rows, err := ix.embedDense(ctx, texts)
	if err != nil {
		return nil, err
	}
	for i, p := range changed {
		if len(rows[i]) != old.vectors.dense.dim {
			return nil, fmt.Errorf("embed product %q: vector dimension %d, want %d",
				p.ID, len(rows[i]), old.vectors.dense.dim)
		}
		vecs[p.ID] = productVector{dense: rows[i]}
	}
	return vecs, nil
}

// Delete removes the products with the given IDs; unknown IDs are ignored.
func (ix *Index) Delete(ctx context.Context, ids []string) error {
	err := ix.write(ctx, func(old map[string]Product) []Product {
		next := maps.Clone(old)
		for _, id := range ids {
			delete(next, id)
		}
		return slices.Collect(maps.Values(next))
	})
	if err != nil {
		return fmt.Errorf("delete %d products: %w", len(ids), err)
	}
	return nil
}

// Replace makes the catalog exactly products: it upserts them all and
// removes every product whose ID is not among them.
func (ix *Index) Replace(ctx context.Context, products []Product) error {
	if err := validateProducts(products); err != nil {
		return fmt.Errorf("replace catalog: %w", err)
	}
	err := ix.write(ctx, func(map[string]Product) []Product {
		next := make(map[string]Product, len(products))
		for _, p := range products {
			next[p.ID] = p
		}
		return slices.Collect(maps.Values(next))
	})
	if err != nil {
		return fmt.Errorf("replace catalog with %d products: %w", len(products), err)
	}
	return nil
}

func validateProducts(products []Product) error {
	for i, p := range products {
		if p.ID == "" {
			return fmt.Errorf("product %d: %w: empty id", i, ErrInvalidProduct)
		}
		if p.Title == "" {
			return fmt.Errorf("product %q: %w: empty title", p.ID, ErrInvalidProduct)
		}
	}
	return nil
}

// write computes the next catalog with next, embeds what changed, persists
// it and swaps it in. Searches keep using the old state until the swap.
func (ix *Index) write(ctx context.Context, next func(old map[string]Product) []Product) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if ix.closed {
		return ErrClosed
	}

	old := ix.cur.Load()
	oldByID := make(map[string]Product, len(old.products))
	for _, p := range old.products {
		oldByID[p.ID] = *p
	}
	products := next(oldByID)
	slices.SortFunc(products, func(a, b Product) int { return cmp.Compare(a.ID, b.ID) })

	vecs, err := ix.vectorsFor(ctx, old, products)
	if err != nil {
		return err
	}
	st := newState(products, vecs, ix.cfg)
	if err := ix.persist(st); err != nil {
		return err
	}
	ix.cur.Store(st)
	ix.log.Info("index updated", "products", len(products))
	return nil
}

// embedDense embeds texts with the dense embedder in batches of 256.
func (ix *Index) embedDense(ctx context.Context, texts []string) ([][]float32, error) {
	const batch = 256
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += batch {
		end := min(start+batch, len(texts))
		vecs, err := ix.embedder.Embed(ctx, texts[start:end])
		if err != nil {
			return nil, fmt.Errorf("embed products: %w", err)
		}
		if len(vecs) != end-start {
			return nil, fmt.Errorf("embed products: %s returned %d vectors for %d texts",
				ix.embedder.Name(), len(vecs), end-start)
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// persist saves st under the index directory, if the index has one, as a
// new generation.
func (ix *Index) persist(st *state) error {
	if ix.dir == "" {
		return nil
	}
	generation := newGeneration()
	if err := saveSnapshot(ix.dir, ix.embedder.Name(), st, generation); err != nil {
		return err
	}
	ix.generation = generation
	return nil
}

// isSparse reports whether the embedder's vectors are stored sparsely.
func (ix *Index) isSparse() bool {
	_, ok := ix.embedder.(sparseEmbedder)
	return ok
}

// vectorsFor returns the vectors of products, reusing the vectors of old
// products whose embedded text did not change.
func (ix *Index) vectorsFor(ctx context.Context, old *state, products []Product) (vectors, error) {
	if se, ok := ix.embedder.(sparseEmbedder); ok {
		return ix.sparseVectorsFor(ctx, se, old, products)
	}
	return ix.denseVectorsFor(ctx, old, products)
}

// reusable returns the index in old of a product whose vector can be
// reused for p.
func reusable(old *state, p *Product) (int, bool) {
	j, ok := old.byID[p.ID]
	if !ok || !sameEmbeddingText(old.products[j], p) {
		return 0, false
	}
	return j, true
}

// sameEmbeddingText reports whether a and b have equal embedded fields, so
// that embeddingText returns the same text for both, without building
// either text.
func sameEmbeddingText(a, b *Product) bool {
	if a.Title != b.Title || a.Brand != b.Brand || a.Category != b.Category || a.Color != b.Color ||
		truncateRunes(a.Description, maxDescriptionRunes) != truncateRunes(b.Description, maxDescriptionRunes) ||
		!slices.Equal(a.Tags, b.Tags) || len(a.Localized) != len(b.Localized) {
		return false
	}
	for lang, at := range a.Localized {
		bt, ok := b.Localized[lang]
		if !ok || at.Title != bt.Title ||
			truncateRunes(at.Description, maxDescriptionRunes) != truncateRunes(bt.Description, maxDescriptionRunes) {
			return false
		}
	}
	return true
}

func (ix *Index) sparseVectorsFor(ctx context.Context, se sparseEmbedder, old *state, products []Product) (vectors, error) {
	if len(products) == 0 {
		return vectors{}, nil
	}
	raw := make([]sparseVector, len(products))
	for i := range products {
		if i%1024 == 0 && ctx.Err() != nil {
			return vectors{}, fmt.Errorf("embed products: %w", ctx.Err())
		}
		if j, ok := reusable(old, &products[i]); ok && old.vectors.sparse != nil {
			raw[i] = old.vectors.sparse.raw[j]
			continue
		}
		raw[i] = se.embedSparse(embeddingText(&products[i]))
	}
	return vectors{sparse: buildSparseIndex(localDim, raw)}, nil
}

func (ix *Index) denseVectorsFor(ctx context.Context, old *state, products []Product) (vectors, error) {
	if len(products) == 0 {
		return vectors{}, nil
	}
	rows := make([][]float32, len(products))
	var texts []string
	var missing []int
	for i := range products {
		if j, ok := reusable(old, &products[i]); ok && old.vectors.dense != nil {
			rows[i] = old.vectors.denseRow(j)
			continue
		}
		texts = append(texts, embeddingText(&products[i]))
		missing = append(missing, i)
	}

	embedded, err := ix.embedDense(ctx, texts)
	if err != nil {
		return vectors{}, err
	}
	for k, v := range embedded {
		rows[missing[k]] = v
	}

	dim := len(rows[0])
	for i, r := range rows {
		if len(r) != dim || dim == 0 {
			return vectors{}, fmt.Errorf("embed product %q: vector dimension %d, want %d",
				products[i].ID, len(r), dim)
		}
	}
	dense := newDenseIndex(dim, rows)
	ids := make([]string, len(products))
	for i := range products {
		ids[i] = products[i].ID
	}
	if err := dense.buildCollection(ctx, ids); err != nil {
		return vectors{}, err
	}
	return vectors{dense: dense}, nil
}

// Get returns the product with the given ID.
func (ix *Index) Get(id string) (Product, bool) {
	st := ix.cur.Load()
	i, ok := st.byID[id]
	if !ok {
		return Product{}, false
	}
	return cloneProduct(*st.products[i]), true
}

// Products returns a copy of the catalog sorted by ID.
func (ix *Index) Products() []Product {
	st := ix.cur.Load()
	out := make([]Product, len(st.order))
	for i, doc := range st.order {
		out[i] = cloneProduct(*st.products[doc])
	}
	return out
}

// Len returns the number of products in the catalog.
func (ix *Index) Len() int { return len(ix.cur.Load().products) }

// Close waits for a running write and rejects later writes. Reads keep
// working on the last state. Close is safe to call more than once.
func (ix *Index) Close() error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.closed = true
	return nil
}

// cloneProduct copies the slices and maps of p, so callers cannot change
// the index's snapshot through them.
func cloneProduct(p Product) Product {
	p.Tags = slices.Clone(p.Tags)
	p.Localized = maps.Clone(p.Localized)
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
