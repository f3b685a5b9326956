package spool

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// A record on disk is a 12-byte header followed by a JSON payload:
//
//	magic   [4]byte  "QMS1"
//	length  uint32   big-endian length of the payload, 1..maxPayload
//	crc     uint32   big-endian CRC-32C (Castagnoli) of the payload
//	payload [length]byte
//
// The magic catches a zero-filled tail (a file extended but never written),
// the length and checksum a record cut short by a crash.
const (
	headerSize = 12
	maxPayload = 1 << 30
)

var (
	magic    = [4]byte{'Q', 'M', 'S', '1'}
	crcTable = crc32.MakeTable(crc32.Castagnoli)
)

// errTorn marks bytes that are not a whole, intact record.
var errTorn = errors.New("torn or corrupt record")

// payload is one accepted batch.
type payload struct {
	ID         uint64    `json:"id"`
	Origin     string    `json:"origin,omitempty"`
	Who        string    `json:"who,omitempty"`
	File       string    `json:"file,omitempty"`
	ReportedAt time.Time `json:"reported_at"`
	Rows       []row     `json:"rows"`
}

// row is an observation with its period in canonical text form.
type row struct {
	Indicator string  `json:"i"`
	Region    string  `json:"r"`
	Period    string  `json:"p"`
	Value     float64 `json:"v"`
	Source    string  `json:"s,omitempty"`
	Note      string  `json:"n,omitempty"`
}

func newPayload(id uint64, batch []observation.Observation, meta observation.Meta) *payload {
	p := &payload{ID: id, Origin: meta.Origin, Who: meta.Who, File: meta.File, ReportedAt: meta.ReportedAt.UTC(), Rows: make([]row, len(batch))}
	for i := range batch {
		o := &batch[i]
		p.Rows[i] = row{Indicator: o.Indicator, Region: o.Region, Period: o.Period.String(), Value: o.Value, Source: o.Source, Note: o.Note}
	}
	return p
}

// observations converts the rows back.
func (p *payload) observations() ([]observation.Observation, error) {
	out := make([]observation.Observation, len(p.Rows))
	for i, r := range p.Rows {
		per, err := period.Parse(r.Period)
		if err != nil {
			return nil, fmt.Errorf("record %d row %d: %w", p.ID, i, err)
		}
		out[i] = observation.Observation{Indicator: r.Indicator, Region: r.Region, Period: per, Value: r.Value, Source: r.Source, Note: r.Note}
	}
	return out, nil
}

// encodeRecord returns the header and payload as one buffer.
func encodeRecord(p *payload) ([]byte, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if len(body) > maxPayload {
		return nil, fmt.Errorf("batch of %d rows is %d bytes, over the spool's limit of %d", len(p.Rows), len(body), maxPayload)
	}
	buf := make([]byte, headerSize+len(body))
	putFrame(buf, magic, body)
	return buf, nil
}

// putFrame writes a header (m, the length and checksum of body) and body
// to buf, which holds at least headerSize+len(body) bytes. Records and
// commit slots are both framed so.
func putFrame(buf []byte, m [4]byte, body []byte) {
	copy(buf, m[:])
	binary.BigEndian.PutUint32(buf[4:], uint32(len(body)))
	binary.BigEndian.PutUint32(buf[8:], crc32.Checksum(body, crcTable))
	copy(buf[headerSize:], body)
}

// frameBody returns the body of the frame b starts with, if its magic is m,
// its length 1..max and within b, and its checksum matches.
func frameBody(b []byte, m [4]byte, max int) ([]byte, bool) {
	if len(b) < headerSize || [4]byte(b[:4]) != m {
		return nil, false
	}
	n := binary.BigEndian.Uint32(b[4:])
	if n == 0 || int64(n) > int64(max) || int64(len(b)-headerSize) < int64(n) {
		return nil, false
	}
	body := b[headerSize : headerSize+int(n)]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(b[8:]) {
		return nil, false
	}
	return body, true
}

// readRecord reads one record. It returns io.EOF at a clean end, errTorn
// (wrapped) for a partial or corrupt record, and the record's size on disk.
func readRecord(r *bufio.Reader) (*payload, int64, error) {
	var h [headerSize]byte
	n, err := io.ReadFull(r, h[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: header cut short", errTorn)
		}
		return nil, 0, err
	}
	if [4]byte(h[:4]) != magic {
		return nil, 0, fmt.Errorf("%w: bad magic %q", errTorn, h[:4])
	}
	size := binary.BigEndian.Uint32(h[4:])
	if size == 0 || size > maxPayload {
		return nil, 0, fmt.Errorf("%w: bad length %d", errTorn, size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: payload cut short", errTorn)
		}
		return nil, 0, err
	}
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(h[8:]) {
		return nil, 0, fmt.Errorf("%w: checksum mismatch", errTorn)
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errTorn, err)
	}
	return &p, int64(headerSize) + int64(size), nil
}
