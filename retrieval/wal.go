package retrieval

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// logFile is the write-ahead log of incremental upserts under the index
// directory. An incremental Upsert appends one record and syncs the file
// instead of rewriting snapshotFile, so its cost does not grow with the
// catalog. Open replays the records over the snapshot; the next full write
// folds them into a new snapshot and removes the log.
//
// Layout: magic "CCLOG\x00\x00\x01", u64 generation of the snapshot it
// extends, then records of u32 payload length, the payload (one
// encoding/gob logRecord) and u32 CRC-32C of the payload. A record cut
// short or failing its checksum ends the log: it is the write that was
// running when the process stopped, and that Upsert never returned.
const logFile = "catalog.log"

const (
	logMagic = "CCLOG\x00\x00\x01"
	// maxLogRecord bounds the allocation for one record's payload.
	maxLogRecord = 1 << 30
)

// logRecord is one incremental Upsert: the products as given and the raw
// sparse vector of each, so that replaying embeds nothing.
type logRecord struct {
	Products []Product
	Indexes  [][]uint32
	Values   [][]float32
}

// newGeneration returns a random snapshot generation.
func newGeneration() uint64 {
	var b [8]byte
	// Since Go 1.24, crypto/rand.Read crashes the program instead of
	// returning an error, so there is none to check.
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// appendLog appends one record to the log of generation under dir and
// syncs it, creating the log when there is none.
func appendLog(dir string, generation uint64, rec logRecord) error {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(rec); err != nil {
		return fmt.Errorf("append log: encode record: %w", err)
	}

	path := filepath.Join(dir, logFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("append log: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("append log: %w", err)
	}

	var b []byte
	if info.Size() == 0 {
		b = append([]byte(logMagic), binary.LittleEndian.AppendUint64(nil, generation)...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(payload.Len()))
	b = append(b, payload.Bytes()...)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload.Bytes(), castagnoli))

	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("append log %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("append log: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append log: close %s: %w", path, err)
	}
	if info.Size() == 0 {
		return syncDir(dir)
	}
	return nil
}

// readLog returns the records of the log under dir that extends
// generation, and whether the log ends in a torn record that the caller
// must drop by writing a new snapshot before appending again. It returns no
// records when there is no log, and removes a log of another generation,
// left by a crash between a snapshot's rename and the log's removal.
func readLog(dir string, generation uint64) ([]logRecord, bool, error) {
	path := filepath.Join(dir, logFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)

	var header [len(logMagic) + 8]byte
	if _, err := io.ReadFull(r, header[:]); err != nil || string(header[:len(logMagic)]) != logMagic ||
		binary.LittleEndian.Uint64(header[len(logMagic):]) != generation {
		if err := os.Remove(path); err != nil {
			return nil, false, fmt.Errorf("remove stale log: %w", err)
		}
		return nil, false, nil
	}

	var recs []logRecord
	for {
		rec, err := readLogRecord(r)
		if errors.Is(err, io.EOF) {
			return recs, false, nil
		}
		if err != nil {
			return recs, true, nil
		}
		recs = append(recs, rec)
	}
}

func readLogRecord(r io.Reader) (logRecord, error) {
	var rec logRecord
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return rec, err
	}
	n := binary.LittleEndian.Uint32(size[:])
	if n > maxLogRecord {
		return rec, fmt.Errorf("record of %d bytes", n)
	}
	payload := make([]byte, n+4)
	if _, err := io.ReadFull(r, payload); err != nil {
		return rec, err
	}
	if crc32.Checksum(payload[:n], castagnoli) != binary.LittleEndian.Uint32(payload[n:]) {
		return rec, errors.New("record checksum mismatch")
	}
	if err := gob.NewDecoder(bytes.NewReader(payload[:n])).Decode(&rec); err != nil {
		return rec, err
	}
	if len(rec.Indexes) != len(rec.Products) || len(rec.Values) != len(rec.Products) {
		return rec, errors.New("record vectors do not match its products")
	}
	return rec, nil
}
