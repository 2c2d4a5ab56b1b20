package retrieval

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// upsertLogged builds a persisted index of 100 products and makes one
// incremental upsert that renames the first product, which goes to the log.
func upsertLogged(t *testing.T) (dir string, renamed Product) {
	t.Helper()
	dir = t.TempDir()
	ix := openIndex(t, dir, Options{})
	catalog := syntheticCatalog(100)
	if err := ix.Upsert(t.Context(), catalog); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if err != nil {
		t.Fatal(err)
	}
	renamed = catalog[0]
	renamed.Title = "Logged Copper Kettle"
	if err := ix.Upsert(t.Context(), []Product{renamed}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("an incremental upsert rewrote the snapshot file")
	}
	if _, err := os.Stat(filepath.Join(dir, logFile)); err != nil {
		t.Fatalf("log after an incremental upsert: %v", err)
	}
	ix.Close()
	return dir, renamed
}

func TestLogReplayedAtOpen(t *testing.T) {
	dir, renamed := upsertLogged(t)
	ix := openIndex(t, dir, Options{})
	if p, _ := ix.Get(renamed.ID); p.Title != renamed.Title {
		t.Errorf("title after replay = %q, want %q", p.Title, renamed.Title)
	}
	res, err := ix.Search(t.Context(), Query{Text: "logged copper kettle"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Product.ID != renamed.ID {
		t.Errorf("search after replay = %v, %v; want %s first", hitIDs(res), err, renamed.ID)
	}

	// A full write folds the log into a new snapshot.
	if err := ix.Replace(t.Context(), ix.Products()[:50]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, logFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log after a full write: stat error %v, want not exist", err)
	}
}

func TestLogTornTailDropped(t *testing.T) {
	dir, renamed := upsertLogged(t)
	f, err := os.OpenFile(filepath.Join(dir, logFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{200, 0, 0, 0, 1, 2, 3}); err != nil { // a record cut short
		t.Fatal(err)
	}
	f.Close()

	ix := openIndex(t, dir, Options{})
	if p, _ := ix.Get(renamed.ID); p.Title != renamed.Title {
		t.Errorf("title after replay = %q, want %q from the intact record", p.Title, renamed.Title)
	}
	if _, err := os.Stat(filepath.Join(dir, logFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log with a torn tail after Open: stat error %v, want it folded and removed", err)
	}
	again := openIndex(t, dir, Options{})
	if p, _ := again.Get(renamed.ID); p.Title != renamed.Title {
		t.Errorf("title after a second Open = %q, want %q", p.Title, renamed.Title)
	}
}

func TestLogOfOtherGenerationIgnored(t *testing.T) {
	dir, renamed := upsertLogged(t)
	// Simulate a crash after a snapshot rename and before the log removal:
	// the snapshot is of a newer generation than the log.
	snap, err := loadSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := snap.vectors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st := newState(snap.products, vecs, &searchConfig{})
	if err := saveSnapshotKeepingLog(dir, snap.embedder, st); err != nil {
		t.Fatal(err)
	}

	ix := openIndex(t, dir, Options{})
	if p, _ := ix.Get(renamed.ID); p.Title == renamed.Title {
		t.Errorf("title = %q: the stale log was replayed", p.Title)
	}
	if _, err := os.Stat(filepath.Join(dir, logFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale log after Open: stat error %v, want removed", err)
	}
}

// saveSnapshotKeepingLog writes a snapshot of a new generation and puts the
// log back, as if the process stopped between the rename and the removal.
func saveSnapshotKeepingLog(dir, embedder string, st *state) error {
	log, err := os.ReadFile(filepath.Join(dir, logFile))
	if err != nil {
		return err
	}
	if err := saveSnapshot(dir, embedder, st, newGeneration()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, logFile), log, 0o644)
}

func TestLogMergedWhenEmbedderChanges(t *testing.T) {
	dir, renamed := upsertLogged(t)
	ix := openIndex(t, dir, Options{Embedder: foldedEmbedder{}})
	if p, _ := ix.Get(renamed.ID); p.Title != renamed.Title {
		t.Errorf("title after re-embedding = %q, want %q from the log", p.Title, renamed.Title)
	}
	if ix.Len() != 100 {
		t.Errorf("Len = %d, want 100", ix.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, logFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log after re-embedding: stat error %v, want it folded and removed", err)
	}
	snap, err := loadSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if snap.embedder != "folded-512" || snap.sparse {
		t.Errorf("snapshot embedder = %q, sparse %v; want folded-512, dense", snap.embedder, snap.sparse)
	}
}
