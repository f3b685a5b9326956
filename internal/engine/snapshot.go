package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/store"
)

// The snapshot: the figures of the last full read and InfluxDB's time
// taken before it, in a file (Engine.SnapshotPath) written after each full
// read, so that a start judges from them and re-reads only the indicators
// written since (store.ChangedSince) rather than everything (at 300,000
// targets two minutes of InfluxDB's CPU on a 2-core machine). Its
// checksum covers every byte, and it names the InfluxDB, the bucket and
// the catalogue it was read with: a damaged snapshot, one of another
// bucket or catalogue, or one older than the writer marks' look-back is not
// used (the start reads everything), never judged from.
//
//	"qualitymon figures 1\n" | header length (uvarint) | header (JSON, snapHeader) | figures (evaluate.Data.AppendBinary) | SHA-256 of all before (32 bytes)
const snapMagic = "qualitymon figures 1\n"

// snapHeader says what a snapshot holds.
type snapHeader struct {
	// Source is the InfluxDB, bucket and catalogue read (snapSource).
	Source string `json:"source"`
	// ReadAt is InfluxDB's time (less store.ChangeSlack) taken before the
	// read; FullAt is when the read began, on this machine's clock.
	ReadAt time.Time `json:"read_at"`
	FullAt time.Time `json:"full_at"`
}

// snapSource names what the figures were read from: the InfluxDB, the
// bucket, and the catalogue's indicators (which of them keep daily values
// decides what the figures hold).
func (e *Engine) snapSource() string {
	h := sha256.New()
	rules := e.Evaluator.Rules()
	var ids []string
	for _, ind := range e.Evaluator.Set.Catalog.All() {
		ids = append(ids, fmt.Sprintf("%s daily=%v", ind.ID, rules.Daily(ind.ID)))
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintln(h, id)
	}
	return fmt.Sprintf("%s %s catalogue %x", e.Store.URL(), e.Store.Bucket(), h.Sum(nil)[:8])
}

// saveSnapshot writes the snapshot of data, read by the full read m says
// (from InfluxDB's time m.ReadAt on, begun at m.FullAt).
func (e *Engine) saveSnapshot(data *evaluate.Data, m store.ReadMarks) error {
	hdr, err := json.Marshal(snapHeader{Source: e.snapSource(), ReadAt: m.ReadAt, FullAt: m.FullAt})
	if err != nil {
		return err
	}
	// Streamed to the file, the checksum computed on the way (the
	// figures of 300,000 targets are some 200 MB).
	return durable.WriteFileFrom(e.SnapshotPath, 0o640, func(w io.Writer) error {
		h := sha256.New()
		hw := io.MultiWriter(w, h)
		b := append([]byte(snapMagic), binary.AppendUvarint(nil, uint64(len(hdr)))...)
		if _, err := hw.Write(append(b, hdr...)); err != nil {
			return err
		}
		if err := data.WriteBinary(hw); err != nil {
			return err
		}
		_, err := w.Write(h.Sum(nil))
		return err
	})
}

// errNoSnapshot: there is no snapshot file.
var errNoSnapshot = errors.New("no snapshot")

// loadSnapshot reads the snapshot; an error says why it is not used.
func (e *Engine) loadSnapshot() (*evaluate.Data, snapHeader, error) {
	var hdr snapHeader
	b, err := os.ReadFile(e.SnapshotPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, hdr, errNoSnapshot
	}
	if err != nil {
		return nil, hdr, err
	}
	if len(b) < len(snapMagic)+sha256.Size || !bytes.HasPrefix(b, []byte(snapMagic)) {
		return nil, hdr, fmt.Errorf("%s is not a snapshot of figures (format 1)", e.SnapshotPath)
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, hdr, fmt.Errorf("%s is damaged (checksum)", e.SnapshotPath)
	}
	rest := body[len(snapMagic):]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, hdr, fmt.Errorf("%s: bad header", e.SnapshotPath)
	}
	if err := json.Unmarshal(rest[k:k+int(n)], &hdr); err != nil {
		return nil, hdr, fmt.Errorf("%s: header: %w", e.SnapshotPath, err)
	}
	if src := e.snapSource(); hdr.Source != src {
		return nil, hdr, fmt.Errorf("%s holds the figures of %s, not %s", e.SnapshotPath, hdr.Source, src)
	}
	data, err := e.Evaluator.DataFromBinary(rest[k+int(n):])
	if err != nil {
		return nil, hdr, fmt.Errorf("%s: %w", e.SnapshotPath, err)
	}
	return data, hdr, nil
}
