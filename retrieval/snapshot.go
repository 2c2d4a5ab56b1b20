package retrieval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// snapshotFile is the name of the index file under the index directory.
//
// Layout, all integers little-endian:
//
//	magic "CCIDX\x00\x00\x01", u32 format version, u64 generation
//	u32 length + embedder name
//	u8 vector kind (1 dense, 2 sparse), u32 dimension, u32 product count
//	u64 length + the products sorted by ID, as one encoding/gob []Product
//	dense: count x dimension float32, one row per product in product order
//	sparse: per product u32 non-zero count, then that many u32 indexes
//	        (ascending) and that many float32 values
//	u32 CRC-32C (Castagnoli) of every byte before it
//
// Open reads the file in one pass straight into the search structures, so
// its peak memory is close to the loaded index's own size. The generation
// is a random number drawn at every save; the write-ahead log (logFile)
// names the generation it extends.
const snapshotFile = "catalog.idx"

const (
	snapshotMagic   = "CCIDX\x00\x00\x01"
	snapshotVersion = 2
	kindDense       = 1
	kindSparse      = 2
	// maxSnapshotDim and maxSnapshotProducts bound what Open allocates for
	// a damaged header.
	maxSnapshotDim      = 1 << 20
	maxSnapshotProducts = 1 << 27
)

// ErrCorruptIndex is returned by Open when the index file exists but cannot
// be read as an index. Deleting the file and importing the catalog again
// recovers.
var ErrCorruptIndex = errors.New("corrupt index file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapshot is a loaded index file.
type snapshot struct {
	generation uint64
	embedder   string
	sparse     bool
	dim        int
	products   []Product
	dense      *denseIndex
	raw        []sparseVector
}

// vectors returns the snapshot's vectors ready for a state. For dense
// vectors it builds their chromem-go collection.
func (s *snapshot) vectors(ctx context.Context) (vectors, error) {
	switch {
	case len(s.products) == 0:
		return vectors{}, nil
	case s.sparse:
		return vectors{sparse: buildSparseIndex(s.dim, s.raw)}, nil
	}
	ids := make([]string, len(s.products))
	for i := range s.products {
		ids[i] = s.products[i].ID
	}
	if err := s.dense.buildCollection(ctx, ids); err != nil {
		return vectors{}, err
	}
	return vectors{dense: s.dense}, nil
}

// saveSnapshot writes st to dir atomically as the given generation: a
// temporary file in the same directory is written, synced and renamed over
// the old one, and the directory is synced so the rename survives a crash.
// It then removes the write-ahead log, which the new file includes.
func saveSnapshot(dir, embedder string, st *state, generation uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	tmp, err := os.CreateTemp(dir, snapshotFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename

	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := writeSnapshot(bw, embedder, st, generation); err != nil {
		tmp.Close()
		return fmt.Errorf("save index: write %s: %w", tmp.Name(), err)
	}
	if err := bw.Flush(); err != nil {
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
	// A crash before this removal leaves a log of an older generation,
	// which Open ignores.
	if err := os.Remove(filepath.Join(dir, logFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("save index: %w", err)
	}
	return syncDir(dir)
}

// snapshotWriter writes little-endian values and keeps the running
// checksum. The first error sticks and later writes do nothing.
type snapshotWriter struct {
	w   io.Writer
	crc hash.Hash32
	buf []byte
	err error
}

func (sw *snapshotWriter) write(b []byte) {
	if sw.err != nil {
		return
	}
	sw.crc.Write(b)
	_, sw.err = sw.w.Write(b)
}

func (sw *snapshotWriter) u32(v uint32) {
	sw.write(binary.LittleEndian.AppendUint32(sw.buf[:0], v))
}

func (sw *snapshotWriter) f32s(vs []float32) {
	b := sw.buf[:0]
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	sw.buf = b
	sw.write(b)
}

func (sw *snapshotWriter) u32s(vs []uint32) {
	b := sw.buf[:0]
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	sw.buf = b
	sw.write(b)
}

func writeSnapshot(w io.Writer, embedder string, st *state, generation uint64) error {
	var products bytes.Buffer
	if len(st.products) > 0 {
		if err := gob.NewEncoder(&products).Encode(st.products); err != nil {
			return fmt.Errorf("encode products: %w", err)
		}
	}
	kind, dim := byte(kindDense), 0
	switch {
	case st.vectors.sparse != nil:
		kind, dim = kindSparse, st.vectors.sparse.dim
	case st.vectors.dense != nil:
		dim = st.vectors.dense.dim
	}

	sw := &snapshotWriter{w: w, crc: crc32.New(castagnoli), buf: make([]byte, 0, 4096)}
	sw.write([]byte(snapshotMagic))
	sw.u32(snapshotVersion)
	sw.write(binary.LittleEndian.AppendUint64(nil, generation))
	sw.u32(uint32(len(embedder)))
	sw.write([]byte(embedder))
	sw.write([]byte{kind})
	sw.u32(uint32(dim))
	sw.u32(uint32(len(st.products)))
	sw.write(binary.LittleEndian.AppendUint64(nil, uint64(products.Len())))
	sw.write(products.Bytes())
	switch {
	case st.vectors.sparse != nil:
		for _, v := range st.vectors.sparse.raw {
			sw.u32(uint32(len(v.idx)))
			sw.u32s(v.idx)
			sw.f32s(v.val)
		}
	case st.vectors.dense != nil:
		for i := range st.products {
			sw.f32s(st.vectors.denseRow(i))
		}
	}
	if sw.err != nil {
		return sw.err
	}
	_, err := w.Write(binary.LittleEndian.AppendUint32(nil, sw.crc.Sum32()))
	return err
}

// snapshotReader reads little-endian values and keeps the running
// checksum. The first error sticks and later reads return zeros.
type snapshotReader struct {
	r   io.Reader
	crc hash.Hash32
	buf []byte
	err error
}

func (sr *snapshotReader) read(n int) []byte {
	if sr.err != nil {
		return nil
	}
	if cap(sr.buf) < n {
		sr.buf = make([]byte, n)
	}
	b := sr.buf[:n]
	if _, err := io.ReadFull(sr.r, b); err != nil {
		sr.err = err
		return nil
	}
	sr.crc.Write(b)
	return b
}

func (sr *snapshotReader) u32() uint32 {
	b := sr.read(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (sr *snapshotReader) u32s(dst []uint32) {
	b := sr.read(4 * len(dst))
	if b == nil {
		return
	}
	for i := range dst {
		dst[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
}

func (sr *snapshotReader) f32s(dst []float32) {
	b := sr.read(4 * len(dst))
	if b == nil {
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
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
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load index: %w", err)
	}
	snap, err := readSnapshot(bufio.NewReaderSize(f, 1<<20), info.Size())
	if err != nil {
		return nil, fmt.Errorf("load index %s: %w: %w", f.Name(), ErrCorruptIndex, err)
	}
	return snap, nil
}

// readSnapshot reads an index file of size bytes from r.
func readSnapshot(r io.Reader, size int64) (*snapshot, error) {
	sr := &snapshotReader{r: r, crc: crc32.New(castagnoli)}
	if magic := sr.read(len(snapshotMagic)); string(magic) != snapshotMagic {
		return nil, errors.New("not an index file")
	}
	if v := sr.u32(); v != snapshotVersion {
		return nil, fmt.Errorf("format version %d, want %d", v, snapshotVersion)
	}
	var generation uint64
	if b := sr.read(8); b != nil {
		generation = binary.LittleEndian.Uint64(b)
	}
	nameLen := sr.u32()
	if nameLen > 1024 {
		return nil, fmt.Errorf("embedder name of %d bytes", nameLen)
	}
	snap := &snapshot{generation: generation, embedder: string(sr.read(int(nameLen)))}
	var kind byte
	if b := sr.read(1); b != nil {
		kind = b[0]
	}
	dim, n := sr.u32(), sr.u32()
	if sr.err != nil {
		return nil, fmt.Errorf("read header: %w", sr.err)
	}
	if kind != kindDense && kind != kindSparse {
		return nil, fmt.Errorf("unknown vector kind %d", kind)
	}
	if dim > maxSnapshotDim || n > maxSnapshotProducts {
		return nil, fmt.Errorf("dimension %d or product count %d out of range", dim, n)
	}
	if kind == kindDense && int64(dim)*int64(n)*4 > size {
		return nil, fmt.Errorf("%d dense vectors of dimension %d do not fit in %d bytes", n, dim, size)
	}
	snap.sparse, snap.dim = kind == kindSparse, int(dim)

	if err := readSnapshotProducts(sr, snap, int(n)); err != nil {
		return nil, err
	}
	if snap.sparse {
		if err := readSparseVectors(sr, snap); err != nil {
			return nil, err
		}
	} else {
		readDenseVectors(sr, snap)
	}
	if sr.err != nil {
		return nil, fmt.Errorf("read vectors: %w", sr.err)
	}

	want := sr.crc.Sum32()
	var trailer [4]byte
	if _, err := io.ReadFull(r, trailer[:]); err != nil {
		return nil, fmt.Errorf("read checksum: %w", err)
	}
	if got := binary.LittleEndian.Uint32(trailer[:]); got != want {
		return nil, fmt.Errorf("checksum %08x, want %08x", got, want)
	}
	return snap, nil
}

func readSnapshotProducts(sr *snapshotReader, snap *snapshot, n int) error {
	size := sr.read(8)
	if size == nil {
		return fmt.Errorf("read products: %w", sr.err)
	}
	// The reader hashes what gob consumes, and the limit stops gob's
	// read-ahead at the end of the block.
	block := io.LimitReader(io.TeeReader(sr.r, sr.crc), int64(binary.LittleEndian.Uint64(size)))
	if n > 0 {
		if err := gob.NewDecoder(block).Decode(&snap.products); err != nil {
			return fmt.Errorf("decode products: %w", err)
		}
	}
	if _, err := io.Copy(io.Discard, block); err != nil {
		return fmt.Errorf("read products: %w", err)
	}
	if len(snap.products) != n {
		return fmt.Errorf("decoded %d products, want %d from the header", len(snap.products), n)
	}
	return nil
}

func readSparseVectors(sr *snapshotReader, snap *snapshot) error {
	snap.raw = make([]sparseVector, len(snap.products))
	for i := range snap.raw {
		nnz := sr.u32()
		if int(nnz) > snap.dim {
			return fmt.Errorf("product %d has %d non-zero entries in dimension %d", i, nnz, snap.dim)
		}
		v := sparseVector{idx: make([]uint32, nnz), val: make([]float32, nnz)}
		sr.u32s(v.idx)
		sr.f32s(v.val)
		for k, d := range v.idx {
			if int(d) >= snap.dim || k > 0 && d <= v.idx[k-1] {
				return fmt.Errorf("product %d: index %d out of order or range", i, d)
			}
		}
		snap.raw[i] = v
	}
	return nil
}

func readDenseVectors(sr *snapshotReader, snap *snapshot) {
	n := len(snap.products)
	snap.dense = &denseIndex{dim: snap.dim, n: n, data: make([]float32, snap.dim*n)}
	for i := range n {
		sr.f32s(snap.dense.row(i))
	}
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
