package retrieval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/philippgille/chromem-go"
)

// legacySnapshotFile is the index file of the previous format, which Open
// still reads so that an existing data directory keeps its vectors, and
// replaces with snapshotFile.
//
// The file is a chromem-go v0.7.0 export (DB.ExportToWriter, gob, no
// compression) of two collections: "products", one document per product
// with the product as JSON content and its vector as embedding, and
// "manifest", one document whose content records the format version, the
// embedder name and the product IDs in order. chromem-go's own persistent
// mode writes one file per document and reads them all at start, which is
// slow for large catalogs and cannot be replaced atomically. Importing the
// export decodes every document into a chromem-go collection before the
// index copies it out: 1.4 GB allocated for 100,000 products of 512
// dimensions (BenchmarkLoadChromemExport). snapshotFile replaced it.
const legacySnapshotFile = "catalog.chromem.gob"

const (
	productsCollection    = "products"
	manifestCollection    = "manifest"
	manifestDocID         = "manifest"
	legacySnapshotVersion = 1
)

type manifest struct {
	Version  int      `json:"version"`
	Embedder string   `json:"embedder"`
	Dim      int      `json:"dim"`
	IDs      []string `json:"ids"`
}

// noEmbedding is the collections' embedding function. The index always
// passes vectors, so chromem-go must never compute one itself.
func noEmbedding(context.Context, string) ([]float32, error) {
	return nil, errors.New("index passes precomputed embeddings only")
}

// loadLegacySnapshot reads the chromem-go export under dir. It returns nil
// and no error when there is none.
func loadLegacySnapshot(dir string) (*snapshot, error) {
	f, err := os.Open(filepath.Join(dir, legacySnapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load index: %w", err)
	}
	defer f.Close()

	db := chromem.NewDB()
	if err := db.ImportFromReader(f, ""); err != nil {
		return nil, fmt.Errorf("load index %s: %w: %w", f.Name(), ErrCorruptIndex, err)
	}
	mc := db.GetCollection(manifestCollection, noEmbedding)
	pc := db.GetCollection(productsCollection, noEmbedding)
	if mc == nil || pc == nil {
		return nil, fmt.Errorf("load index %s: %w: missing collection", f.Name(), ErrCorruptIndex)
	}
	ctx := context.Background()
	mdoc, err := mc.GetByID(ctx, manifestDocID)
	if err != nil {
		return nil, fmt.Errorf("load index %s: %w: %w", f.Name(), ErrCorruptIndex, err)
	}
	var man manifest
	if err := json.Unmarshal([]byte(mdoc.Content), &man); err != nil {
		return nil, fmt.Errorf("load index %s: %w: manifest: %w", f.Name(), ErrCorruptIndex, err)
	}
	if man.Version != legacySnapshotVersion {
		return nil, fmt.Errorf("load index %s: %w: format version %d, want %d",
			f.Name(), ErrCorruptIndex, man.Version, legacySnapshotVersion)
	}

	snap := &snapshot{embedder: man.Embedder, dim: man.Dim, products: make([]Product, len(man.IDs))}
	rows := make([][]float32, len(man.IDs))
	for i, id := range man.IDs {
		doc, err := pc.GetByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("load index %s: %w: %w", f.Name(), ErrCorruptIndex, err)
		}
		if err := json.Unmarshal([]byte(doc.Content), &snap.products[i]); err != nil {
			return nil, fmt.Errorf("load index %s: %w: product %q: %w", f.Name(), ErrCorruptIndex, id, err)
		}
		if len(doc.Embedding) != man.Dim {
			return nil, fmt.Errorf("load index %s: %w: product %q has dimension %d, want %d",
				f.Name(), ErrCorruptIndex, id, len(doc.Embedding), man.Dim)
		}
		rows[i] = doc.Embedding
	}
	if len(rows) > 0 {
		snap.dense = newDenseIndex(man.Dim, rows)
	}
	return snap, nil
}
