package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/philippgille/chromem-go"
)

// snapshotFile is the name of the index file under the index directory.
//
// The file is a chromem-go v0.7.0 export (DB.ExportToWriter, gob, no
// compression) of two collections: "products", one document per product
// with the product as JSON content and its vector as embedding, and
// "manifest", one document whose content records the format version, the
// embedder name and the product IDs in order. chromem-go's own persistent
// mode writes one file per document and reads them all at start, which is
// slow for large catalogs and cannot be replaced atomically; one exported
// file written to a temporary name, synced and renamed can.
const snapshotFile = "catalog.chromem.gob"

const (
	productsCollection = "products"
	manifestCollection = "manifest"
	manifestDocID      = "manifest"
	snapshotVersion    = 1
)

// ErrCorruptIndex is returned by Open when the index file exists but cannot
// be read as an index. Deleting the file and importing the catalog again
// recovers.
var ErrCorruptIndex = errors.New("corrupt index file")

type manifest struct {
	Version  int      `json:"version"`
	Embedder string   `json:"embedder"`
	Dim      int      `json:"dim"`
	IDs      []string `json:"ids"`
}

type snapshot struct {
	embedder string
	dim      int
	products []Product
	vectors  [][]float32
}

// noEmbedding is the collections' embedding function. The index always
// passes vectors, so chromem-go must never compute one itself.
func noEmbedding(context.Context, string) ([]float32, error) {
	return nil, errors.New("index passes precomputed embeddings only")
}

// saveSnapshot writes st to dir atomically: a temporary file in the same
// directory is written, synced and renamed over the old one, and the
// directory is synced so the rename survives a crash.
func saveSnapshot(dir, embedder string, st *state) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	db, err := snapshotDB(embedder, st)
	if err != nil {
		return fmt.Errorf("save index: %w", err)
	}

	tmp, err := os.CreateTemp(dir, snapshotFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := db.ExportToWriter(w, false, ""); err != nil {
		tmp.Close()
		return fmt.Errorf("save index: export: %w", err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("save index: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save index: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save index: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, snapshotFile)); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	return syncDir(dir)
}

func snapshotDB(embedder string, st *state) (*chromem.DB, error) {
	ctx := context.Background()
	db := chromem.NewDB()
	products, err := db.CreateCollection(productsCollection, nil, noEmbedding)
	if err != nil {
		return nil, err
	}
	man := manifest{Version: snapshotVersion, Embedder: embedder, Dim: st.vectors.dim,
		IDs: make([]string, len(st.products))}
	for i := range st.products {
		p := &st.products[i]
		man.IDs[i] = p.ID
		content, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode product %q: %w", p.ID, err)
		}
		doc := chromem.Document{ID: p.ID, Embedding: st.vectors.row(i), Content: string(content)}
		if err := products.AddDocument(ctx, doc); err != nil {
			return nil, fmt.Errorf("add product %q: %w", p.ID, err)
		}
	}
	mc, err := db.CreateCollection(manifestCollection, nil, noEmbedding)
	if err != nil {
		return nil, err
	}
	content, err := json.Marshal(man)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	// chromem-go needs a non-empty embedding; the manifest's is a placeholder.
	doc := chromem.Document{ID: manifestDocID, Embedding: []float32{1}, Content: string(content)}
	if err := mc.AddDocument(ctx, doc); err != nil {
		return nil, fmt.Errorf("add manifest: %w", err)
	}
	return db, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// loadSnapshot reads the index file under dir. It returns nil and no error
// when there is none.
func loadSnapshot(dir string) (*snapshot, error) {
	f, err := os.Open(filepath.Join(dir, snapshotFile))
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
	if man.Version != snapshotVersion {
		return nil, fmt.Errorf("load index %s: %w: format version %d, want %d",
			f.Name(), ErrCorruptIndex, man.Version, snapshotVersion)
	}

	snap := &snapshot{embedder: man.Embedder, dim: man.Dim,
		products: make([]Product, len(man.IDs)), vectors: make([][]float32, len(man.IDs))}
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
		snap.vectors[i] = doc.Embedding
	}
	return snap, nil
}
