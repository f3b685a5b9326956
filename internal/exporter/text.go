package exporter

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// family writes one metric family in the Prometheus text format (0.0.4).
type family struct {
	b    *bytes.Buffer
	name string
}

func newFamily(b *bytes.Buffer, name, help string) family {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(escapeHelp(help))
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteString(" gauge\n")
	return family{b: b, name: name}
}

// sample writes name{k="v",...} value; labels alternate key, value.
func (f family) sample(v float64, labels ...string) {
	b := f.b
	b.WriteString(f.name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			writeLabelValue(b, labels[i+1])
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	var num [32]byte
	b.Write(strconv.AppendFloat(num[:0], v, 'g', -1, 64))
	b.WriteByte('\n')
}

func writeLabelValue(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, "\\\"\n") {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// segment is a piece of the page: its text as raw DEFLATE blocks that end
// on a byte boundary (a sync flush, no final block), with the text's
// CRC-32 and length. Segments one after another, closed by a final empty
// block, are one DEFLATE stream; behind a gzip header and before the
// combined CRC and length (writeGzip) they are one gzip member. (Several
// gzip members are valid gzip too, but curl and other clients inflate
// only the first: they saw the first part of the page.)
type segment struct {
	z   []byte
	crc uint32
	n   int64
}

// zipper compresses texts into segments, with one compressor for all of
// them (reset for each: no segment refers to another's text).
type zipper struct {
	w   *flate.Writer
	out bytes.Buffer
}

func newZipper() *zipper {
	z := &zipper{}
	z.w, _ = flate.NewWriter(&z.out, flate.BestSpeed)
	return z
}

// gz returns text as a segment, in a slice of its own.
func (z *zipper) gz(text []byte) segment {
	z.out.Reset()
	z.w.Reset(&z.out)
	z.w.Write(text)
	z.w.Flush()
	return segment{z: bytes.Clone(z.out.Bytes()), crc: crc32.ChecksumIEEE(text), n: int64(len(text))}
}

// gzipHeader is a gzip member's header (RFC 1952: DEFLATE, no name, no
// time, unknown OS); finalBlock is an empty final DEFLATE block (fixed
// codes: BFINAL, BTYPE 01, end of block).
var (
	gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	finalBlock = []byte{0x03, 0x00}
)

// writeGzip writes segs as one gzip member.
func writeGzip(w io.Writer, segs ...[]segment) error {
	if _, err := w.Write(gzipHeader); err != nil {
		return err
	}
	var crc uint32
	var n int64
	for _, ss := range segs {
		for _, sg := range ss {
			if _, err := w.Write(sg.z); err != nil {
				return err
			}
			crc, n = crc32Combine(crc, sg.crc, sg.n), n+sg.n
		}
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(n)) // the length modulo 2³²
	if _, err := w.Write(finalBlock); err != nil {
		return err
	}
	_, err := w.Write(trailer[:])
	return err
}

// inflate reads segs back as text.
func inflate(segs []segment) io.ReadCloser {
	rs := make([]io.Reader, 0, len(segs)+1)
	for _, sg := range segs {
		rs = append(rs, bytes.NewReader(sg.z))
	}
	return flate.NewReader(io.MultiReader(append(rs, bytes.NewReader(finalBlock))...))
}

// crc32Combine returns the CRC-32 (IEEE) of a text whose first part has
// crc1 and whose second part, n bytes long, has crc2. The CRC register is
// linear over GF(2): the first part's CRC goes through n zero bytes (the
// operator for n bytes is built by squaring the one for a single zero
// bit, as many times as n has binary digits), then the second's is added.
func crc32Combine(crc1, crc2 uint32, n int64) uint32 {
	if n <= 0 {
		return crc1
	}
	var odd, even [32]uint32
	odd[0] = 0xedb88320 // one zero bit: the reflected polynomial
	for i, row := 1, uint32(1); i < 32; i, row = i+1, row<<1 {
		odd[i] = row
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		gf2Square(&even, &odd) // one zero byte, then 4, 16, … (with odd: 2, 8, …)
		if n&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		if n >>= 1; n == 0 {
			break
		}
		gf2Square(&odd, &even)
		if n&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		if n >>= 1; n == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

// gf2Times multiplies the 32×32 matrix mat (by columns) with the vector v.
func gf2Times(mat *[32]uint32, v uint32) uint32 {
	var sum uint32
	for i := 0; v != 0; i, v = i+1, v>>1 {
		if v&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

// gf2Square sets sq to mat².
func gf2Square(sq, mat *[32]uint32) {
	for i := range mat {
		sq[i] = gf2Times(mat, mat[i])
	}
}
