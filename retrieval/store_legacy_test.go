package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/philippgille/chromem-go"
)

// writeLegacySnapshot writes products and their dense vectors as the
// chromem-go export that earlier versions of the index saved.
func writeLegacySnapshot(dir, embedder string, products []Product, rows [][]float32) error {
	ctx := context.Background()
	db := chromem.NewDB()
	pc, err := db.CreateCollection(productsCollection, nil, noEmbedding)
	if err != nil {
		return err
	}
	man := manifest{Version: legacySnapshotVersion, Embedder: embedder, IDs: make([]string, len(products))}
	for i := range products {
		p := &products[i]
		man.IDs[i] = p.ID
		man.Dim = len(rows[i])
		content, err := json.Marshal(p)
		if err != nil {
			return err
		}
		doc := chromem.Document{ID: p.ID, Embedding: rows[i], Content: string(content)}
		if err := pc.AddDocument(ctx, doc); err != nil {
			return fmt.Errorf("add product %q: %w", p.ID, err)
		}
	}
	mc, err := db.CreateCollection(manifestCollection, nil, noEmbedding)
	if err != nil {
		return err
	}
	content, err := json.Marshal(man)
	if err != nil {
		return err
	}
	doc := chromem.Document{ID: manifestDocID, Embedding: []float32{1}, Content: string(content)}
	if err := mc.AddDocument(ctx, doc); err != nil {
		return err
	}

	f, err := os.Create(filepath.Join(dir, legacySnapshotFile))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := db.ExportToWriter(w, false, ""); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
