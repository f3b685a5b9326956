package spool

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
)

// A record on disk is a 16-byte header followed by a payload:
//
//	magic   [4]byte  "QMS4"
//	length  uint32   big-endian length of the payload, 1..maxPayload
//	crc     uint32   big-endian CRC-32C (Castagnoli) of the payload
//	hcrc    uint32   big-endian CRC-32C of the 12 bytes before it
//	payload [length]byte
//
// The payload of "QMS4" is compact and binary (compact.go). "QMS3"
// records, the same header with a JSON payload of typed observations, were
// written before it; "QMS2" records, the same header with the payload's
// rows as text (legacyRow), before Period encoded itself: each new magic
// keeps an older version from reading a new payload as a batch of no rows. Spools written before the
// header checksum hold version 1 records ("QMS1", the same without hcrc: a
// 12-byte header). Both are still read, and a segment may hold all three.
//
// The magic catches a zero-filled tail (a file extended but never written).
// The header checksum makes the length trustworthy, so that a record the
// end of the file cuts short (a torn append, never acknowledged) is told
// from a whole record whose bytes were damaged (acknowledged data): see
// splitTail.
const (
	frameHeader = 12 // magic, length, CRC-32C: commit slots and version 1 records
	headerSize  = 16 // records of versions 2 to 4: frameHeader and its own CRC-32C
	maxPayload  = 1 << 30
)

var (
	magic    = [4]byte{'Q', 'M', 'S', '4'}
	magicV3  = [4]byte{'Q', 'M', 'S', '3'}
	magicV2  = [4]byte{'Q', 'M', 'S', '2'}
	magicV1  = [4]byte{'Q', 'M', 'S', '1'}
	crcTable = crc32.MakeTable(crc32.Castagnoli)
)

// errTorn marks bytes that are not a whole, intact record.
var errTorn = errors.New("torn or corrupt record")

// payload is one accepted batch: its rows still encoded (compact, a
// "QMS4" record), or decoded from the JSON of an older record
// (observation.Observation's JSON, the period as text).
type payload struct {
	ID         uint64                    `json:"id"`
	Origin     string                    `json:"origin,omitempty"`
	Who        string                    `json:"who,omitempty"`
	File       string                    `json:"file,omitempty"`
	ReportedAt time.Time                 `json:"reported_at"`
	Obs        []observation.Observation `json:"observations,omitempty"`
	// Rows are the rows of a record written before observations encoded
	// themselves (read, never written).
	Rows []legacyRow `json:"rows,omitempty"`
	// compact holds the rows of a "QMS4" record.
	compact *observation.Compact
}

// legacyRow is a row of an older record: an observation with its period in
// text, and short keys.
type legacyRow struct {
	Indicator string  `json:"i"`
	Region    string  `json:"r"`
	Period    string  `json:"p"`
	Value     float64 `json:"v"`
	Source    string  `json:"s,omitempty"`
	Note      string  `json:"n,omitempty"`
}

func newPayload(id uint64, batch []observation.Observation, meta observation.Meta) *payload {
	return &payload{ID: id, Origin: meta.Origin, Who: meta.Who, File: meta.File, ReportedAt: meta.ReportedAt.UTC(), Obs: batch}
}

// decodePayload reads a record's payload: compact, or the JSON of an
// older record.
func decodePayload(body []byte) (*payload, error) {
	if len(body) > 0 && body[0] == compactFormat {
		return decodeCompact(body)
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// decodes reports whether body is a payload.
func decodes(body []byte) bool {
	_, err := decodePayload(body)
	return err == nil
}

// len is the number of rows of the batch.
func (p *payload) len() int {
	n := len(p.Obs) + len(p.Rows)
	if p.compact != nil {
		n += p.compact.Len()
	}
	return n
}

// chunks returns the batch size rows at a time (an older record's as one
// chunk), or the error of an older record whose rows do not read.
func (p *payload) chunks(size int) (iter.Seq[[]observation.Observation], error) {
	if p.compact != nil {
		return p.compact.Chunks(size), nil
	}
	obs, err := p.observations()
	if err != nil {
		return nil, err
	}
	return func(yield func([]observation.Observation) bool) {
		for i := 0; i < len(obs); i += size {
			if !yield(obs[i:min(i+size, len(obs))]) {
				return
			}
		}
	}, nil
}

// observations returns the batch; the rows of an older record are
// converted (an error when a period does not read).
func (p *payload) observations() ([]observation.Observation, error) {
	if p.compact != nil {
		return p.compact.Observations(), nil
	}
	if len(p.Rows) == 0 {
		return p.Obs, nil
	}
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

// cells returns the rows as the cells of the canonical layout (indicator,
// region, period, value, source, note): an older record's as written, so
// that one whose period does not read can still be set aside.
func (p *payload) cells() [][]string {
	if len(p.Rows) == 0 {
		obs, _ := p.observations() // only older records' rows fail to read
		return obsCells(obs)
	}
	out := make([][]string, len(p.Rows))
	for i, r := range p.Rows {
		out[i] = []string{r.Indicator, r.Region, r.Period, strconv.FormatFloat(r.Value, 'f', -1, 64), r.Source, r.Note}
	}
	return out
}

// obsCells returns observations as the cells of the canonical layout.
func obsCells(obs []observation.Observation) [][]string {
	out := make([][]string, len(obs))
	for i, o := range obs {
		out[i] = []string{o.Indicator, o.Region, o.Period.String(), strconv.FormatFloat(o.Value, 'f', -1, 64), o.Source, o.Note}
	}
	return out
}

// encodeRecord returns the header and the compact payload of p (its
// compact rows, else its Obs) as one buffer.
func encodeRecord(p *payload) ([]byte, error) {
	// The payload is encoded behind room for the header, not copied after
	// it: a large upload's record is held once.
	c := p.compact
	if c == nil {
		c = observation.CompactOf(p.Obs)
	}
	buf := make([]byte, headerSize, headerSize+64+len(p.Origin)+len(p.Who)+len(p.File)+c.Size())
	buf = appendCompact(buf, p.ID, c, observation.Meta{Origin: p.Origin, Who: p.Who, File: p.File, ReportedAt: p.ReportedAt})
	body := buf[headerSize:]
	if len(body) > maxPayload {
		return nil, fmt.Errorf("batch of %d rows is %d bytes, over the spool's limit of %d", p.len(), len(body), maxPayload)
	}
	copy(buf, magic[:])
	binary.BigEndian.PutUint32(buf[4:], uint32(len(body)))
	binary.BigEndian.PutUint32(buf[8:], crc32.Checksum(body, crcTable))
	binary.BigEndian.PutUint32(buf[frameHeader:], crc32.Checksum(buf[:frameHeader], crcTable))
	return buf, nil
}

// putFrame writes a commit frame: a header (m, the length and checksum of
// body) and body, to buf, which holds at least frameHeader+len(body) bytes.
func putFrame(buf []byte, m [4]byte, body []byte) {
	copy(buf, m[:])
	binary.BigEndian.PutUint32(buf[4:], uint32(len(body)))
	binary.BigEndian.PutUint32(buf[8:], crc32.Checksum(body, crcTable))
	copy(buf[frameHeader:], body)
}

// frameBody returns the body of the commit frame b starts with, if its
// magic is m, its length 1..max and within b, and its checksum matches.
func frameBody(b []byte, m [4]byte, max int) ([]byte, bool) {
	if len(b) < frameHeader || [4]byte(b[:4]) != m {
		return nil, false
	}
	n := binary.BigEndian.Uint32(b[4:])
	if n == 0 || int64(n) > int64(max) || int64(len(b)-frameHeader) < int64(n) {
		return nil, false
	}
	body := b[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(b[8:]) {
		return nil, false
	}
	return body, true
}

// header is a record header as read.
type header struct {
	size   int    // bytes of header: headerSize, or frameHeader for version 1
	length uint32 // of the payload
	crc    uint32 // of the payload
}

// headerLen is the header size the magic b starts with announces (0: not a
// record's magic).
func headerLen(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	switch [4]byte(b[:4]) {
	case magic, magicV3, magicV2:
		return headerSize
	case magicV1:
		return frameHeader
	}
	return 0
}

// parseHeader checks the header b starts with (b holds at least
// headerLen(b) bytes): its magic, its checksum (versions 2 to 4) and a length in
// 1..maxPayload.
func parseHeader(b []byte) (header, error) {
	hs := headerLen(b)
	if hs == 0 {
		return header{}, fmt.Errorf("%w: bad magic %q", errTorn, b[:min(4, len(b))])
	}
	if hs == headerSize && crc32.Checksum(b[:frameHeader], crcTable) != binary.BigEndian.Uint32(b[frameHeader:]) {
		return header{}, fmt.Errorf("%w: header checksum mismatch", errTorn)
	}
	h := header{size: hs, length: binary.BigEndian.Uint32(b[4:]), crc: binary.BigEndian.Uint32(b[8:])}
	if h.length == 0 || h.length > maxPayload {
		return header{}, fmt.Errorf("%w: bad length %d", errTorn, h.length)
	}
	return h, nil
}

// recordAt returns the payload of the intact record b starts with (header
// valid, whole, checksum matching, payload decoding) and its size.
func recordAt(b []byte) (*payload, int, bool) {
	hs := headerLen(b)
	if hs == 0 || len(b) < hs {
		return nil, 0, false
	}
	h, err := parseHeader(b)
	if err != nil || int64(len(b)-hs) < int64(h.length) {
		return nil, 0, false
	}
	body := b[hs : hs+int(h.length)]
	if crc32.Checksum(body, crcTable) != h.crc {
		return nil, 0, false
	}
	p, err := decodePayload(body)
	if err != nil {
		return nil, 0, false
	}
	return p, hs + int(h.length), true
}

// splitTail sorts the bad bytes b that follow the last intact record of a
// segment (no intact record starts anywhere in them). Whole records come
// first: each is damage, acknowledged data whose bytes changed on disk, and
// wholes lists their lengths. What follows them, from offset torn on (torn
// == len(b) when nothing does), is a torn append: a record that the end of
// the file cuts short, never acknowledged.
//
// A crash during an append leaves a prefix of the bytes written, perhaps
// followed by zeros (a file extended but never written); it cannot change
// a byte it wrote. So a record is whole when its header is intact (for
// versions 2 to 4 its checksum matches, so the length is the one written) and the
// file holds the length it announces, whatever its payload checksum says.
// A damaged header with data after it is damage too: it is whole up to the
// length with which its payload checksum matches (the one it announces, or
// the rest of the file) or, failing that, to the end of the file (one
// damaged range, kept whole). Version 1 headers have no checksum: their
// length is believed unless the rest of the file, taken as the payload,
// matches the payload checksum.
func splitTail(b []byte) (wholes []int, torn int, why string) {
	for torn < len(b) {
		n, whyNot := wholeAt(b[torn:])
		if n == 0 {
			return wholes, torn, whyNot
		}
		wholes = append(wholes, n)
		torn += n
	}
	return wholes, torn, ""
}

// wholeAt returns the length of the whole record b starts with (see
// splitTail), or 0 and why it is not one.
func wholeAt(b []byte) (int, string) {
	if hs := headerLen(b); hs != 0 && len(b) >= hs {
		if h, err := parseHeader(b); err == nil {
			if int64(len(b)-hs) >= int64(h.length) {
				return hs + int(h.length), ""
			}
			if hs == frameHeader {
				if n := matchingLength(b); n > 0 {
					return n, "" // a version 1 length damaged
				}
			}
			return 0, fmt.Sprintf("a record of %d bytes cut short by the end of the file after %d", hs+int(h.length), len(b))
		}
	}
	if len(bytes.TrimRight(b, "\x00")) <= headerSize {
		return 0, fmt.Sprintf("%d bytes, no more than a header's worth before zeros, at the end of the file", len(b))
	}
	if n := matchingLength(b); n > 0 {
		return n, ""
	}
	return len(b), ""
}

// matchingLength returns the size of the record b starts with when a
// header size and a length (the one announced, or the rest of b) give a
// payload that matches the checksum, or that decodes at the announced
// length; 0 when none does.
func matchingLength(b []byte) int {
	if len(b) < frameHeader {
		return 0
	}
	announced := int64(binary.BigEndian.Uint32(b[4:]))
	crc := binary.BigEndian.Uint32(b[8:])
	for _, hs := range []int{headerSize, frameHeader} {
		for _, n := range []int64{announced, int64(len(b) - hs)} {
			if n <= 0 || n > int64(len(b)-hs) {
				continue
			}
			body := b[hs : hs+int(n)]
			if (crc32.Checksum(body, crcTable) == crc || n == announced) && decodes(body) {
				return hs + int(n)
			}
		}
	}
	return 0
}

// readRecord reads one record. It returns io.EOF at a clean end, errTorn
// (wrapped) for a partial or corrupt record, and the record's size on disk.
func readRecord(r *bufio.Reader) (*payload, int64, error) {
	var hb [headerSize]byte
	n, err := io.ReadFull(r, hb[:4])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: header cut short", errTorn)
		}
		return nil, 0, err
	}
	hs := headerLen(hb[:])
	if hs == 0 {
		return nil, 0, fmt.Errorf("%w: bad magic %q", errTorn, hb[:4])
	}
	if _, err := io.ReadFull(r, hb[4:hs]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: header cut short", errTorn)
		}
		return nil, 0, err
	}
	h, err := parseHeader(hb[:hs])
	if err != nil {
		return nil, 0, err
	}
	body := make([]byte, h.length)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: payload cut short", errTorn)
		}
		return nil, 0, err
	}
	if crc32.Checksum(body, crcTable) != h.crc {
		return nil, 0, fmt.Errorf("%w: checksum mismatch", errTorn)
	}
	p, err := decodePayload(body)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errTorn, err)
	}
	return p, int64(hs) + int64(h.length), nil
}
