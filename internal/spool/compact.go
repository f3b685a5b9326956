package spool

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// The payload of a "QMS4" record is compact and binary, about 20 bytes a
// row where the JSON of "QMS3" took about 150, so that a large upload's
// record costs little to build and the flusher can read it in chunks
// without decoding it whole:
//
//	format   byte     compactFormat (a JSON payload starts with '{')
//	id       uvarint
//	origin, who, file  string (uvarint length, bytes)
//	reported uvarint  Unix seconds + 1<<62 (zero time: 0), uvarint nanoseconds
//	batch    the rows as observation.Compact encodes them, to the end
const compactFormat = 0x04

// appendCompact appends the compact payload of a batch to buf.
func appendCompact(buf []byte, id uint64, batch *observation.Compact, meta observation.Meta) []byte {
	buf = append(buf, compactFormat)
	buf = binary.AppendUvarint(buf, id)
	for _, s := range []string{meta.Origin, meta.Who, meta.File} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	if meta.ReportedAt.IsZero() {
		buf = binary.AppendUvarint(buf, 0)
		buf = binary.AppendUvarint(buf, 0)
	} else {
		buf = binary.AppendUvarint(buf, uint64(meta.ReportedAt.Unix())+1<<62)
		buf = binary.AppendUvarint(buf, uint64(meta.ReportedAt.Nanosecond()))
	}
	return batch.Append(buf)
}

// decodeCompact reads a compact payload: its metadata, and its rows
// checked but still encoded (payload.chunks decodes them).
func decodeCompact(body []byte) (*payload, error) {
	b := body[1:]
	bad := fmt.Errorf("%w: metadata", observation.ErrCompact)
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uvarint()
		if n > uint64(len(b)) {
			b = nil
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	p := &payload{ID: uvarint()}
	p.Origin, p.Who, p.File = str(), str(), str()
	sec, nsec := uvarint(), uvarint()
	if b == nil {
		return nil, bad
	}
	if sec != 0 {
		if sec < 1<<61 || nsec >= 1e9 {
			return nil, bad
		}
		p.ReportedAt = time.Unix(int64(sec-1<<62), int64(nsec)).UTC()
	}
	c, err := observation.ReadCompact(b)
	if err != nil {
		return nil, err
	}
	p.compact = c
	return p, nil
}
