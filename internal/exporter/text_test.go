package exporter

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

// The CRC of two texts joined, from theirs and the second's length, is
// the CRC of the joined text, at every length (none, one byte, more than a
// block of the operator's squarings).
func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 65537} {
		a, b := make([]byte, r.IntN(100)), make([]byte, n)
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
		if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(n)); got != want {
			t.Errorf("length %d: %08x, want %08x", n, got, want)
		}
	}
}

// Segments compressed one by one (some empty) are written as one gzip
// member that inflates, CRC and length checked, to their texts joined; the
// page's plain text is the same.
func TestOneGzipMember(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	z := newZipper()
	var segs []segment
	var want []byte
	for i := range 40 {
		text := make([]byte, r.IntN(5000)*(i%3))
		for j := range text {
			text[j] = "qualitymon_target_status_code{plan=\"x\"} 1\n"[r.IntN(20)]
		}
		want = append(want, text...)
		segs = append(segs, z.gz(text))
	}
	var out bytes.Buffer
	if err := writeGzip(&out, segs[:10], segs[10:]); err != nil {
		t.Fatal(err)
	}
	if got := oneMember(t, out.Bytes()); !bytes.Equal(got, want) {
		t.Fatalf("inflated %d bytes, want %d", len(got), len(want))
	}
	var plain bytes.Buffer
	if err := (&page{parts: segs}).writePlain(&plain); err != nil || !bytes.Equal(plain.Bytes(), want) {
		t.Fatalf("plain: %d bytes, %v; want %d", plain.Len(), err, len(want))
	}
}

// oneMember inflates body, which must be one gzip member (curl and other
// clients inflate only the first of several), its CRC and length right.
func oneMember(t *testing.T, body []byte) []byte {
	t.Helper()
	br := bytes.NewReader(body)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err) // a wrong CRC or length is an error here
	}
	if br.Len() != 0 {
		t.Fatalf("%d bytes after the first gzip member", br.Len())
	}
	return text
}
