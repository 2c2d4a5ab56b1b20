package retrieval

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// persistFixture writes the fixture catalog to a new index directory with
// emb and returns the directory and the index's state.
func persistFixture(t *testing.T, emb Embedder) (string, *state) {
	t.Helper()
	dir := t.TempDir()
	ix := openIndex(t, dir, Options{Embedder: emb})
	if err := ix.Upsert(t.Context(), loadFixture(t)); err != nil {
		t.Fatal(err)
	}
	return dir, ix.cur.Load()
}

func TestSnapshotRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		embedder Embedder
		sparse   bool
	}{
		{"sparse_local", nil, true},
		{"dense_512", foldedEmbedder{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, st := persistFixture(t, tt.embedder)
			snap, err := loadSnapshot(dir)
			if err != nil {
				t.Fatal(err)
			}
			if snap.sparse != tt.sparse {
				t.Errorf("sparse = %v, want %v", snap.sparse, tt.sparse)
			}
			if len(snap.products) != len(st.products) {
				t.Fatalf("loaded %d products, want %d", len(snap.products), len(st.products))
			}
			for i := range st.products {
				if snap.products[i].ID != st.products[i].ID || snap.products[i].Price != st.products[i].Price {
					t.Errorf("product %d = %+v, want %+v", i, snap.products[i], st.products[i])
				}
			}
			got, err := snap.vectors(t.Context())
			if err != nil {
				t.Fatalf("snapshot vectors: %v", err)
			}
			if tt.sparse {
				for i, want := range st.vectors.sparse.raw {
					v := got.sparse.raw[i]
					if len(v.idx) != len(want.idx) || len(v.idx) == 0 || v.idx[0] != want.idx[0] || v.val[0] != want.val[0] {
						t.Errorf("sparse vector %d differs after reload", i)
					}
				}
				return
			}
			for i := range st.products {
				want, v := st.vectors.dense.row(i), got.dense.row(i)
				for d := range want {
					if v[d] != want[d] {
						t.Fatalf("dense vector %d differs at %d: %v, want %v", i, d, v[d], want[d])
					}
				}
			}
		})
	}
}

func TestSnapshotDetectsDamage(t *testing.T) {
	dir, _ := persistFixture(t, nil)
	path := filepath.Join(dir, snapshotFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"flipped_byte", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-7] }},
		{"bad_magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			damaged := tt.damage(append([]byte(nil), good...))
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(t.Context(), dir, Options{}); !errors.Is(err, ErrCorruptIndex) {
				t.Errorf("Open on a %s file = %v, want ErrCorruptIndex", tt.name, err)
			}
		})
	}
}

func TestSnapshotEmptyCatalog(t *testing.T) {
	dir := t.TempDir()
	ix := openIndex(t, dir, Options{})
	products := loadFixture(t)
	if err := ix.Upsert(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	if err := ix.Replace(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	again := openIndex(t, dir, Options{})
	if again.Len() != 0 {
		t.Errorf("reloaded %d products after Replace(nil), want 0", again.Len())
	}
}

func FuzzReadSnapshot(f *testing.F) {
	for _, emb := range []Embedder{nil, foldedEmbedder{}} {
		dir := f.TempDir()
		ix, err := Open(f.Context(), dir, Options{Embedder: emb})
		if err != nil {
			f.Fatal(err)
		}
		if err := ix.Upsert(f.Context(), syntheticCatalog(3)); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := readSnapshot(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if snap.sparse && len(snap.raw) != len(snap.products) {
			t.Errorf("accepted %d sparse vectors for %d products", len(snap.raw), len(snap.products))
		}
		if !snap.sparse && snap.dense.n != len(snap.products) {
			t.Errorf("accepted %d dense vectors for %d products", snap.dense.n, len(snap.products))
		}
	})
}
