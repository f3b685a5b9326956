package exporter

import (
	"bytes"
	"compress/gzip"
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

// zipper gzips texts, each as one gzip member (members concatenate into a
// valid gzip stream), with one compressor for all of them.
type zipper struct {
	w   *gzip.Writer
	out bytes.Buffer
}

func newZipper() *zipper {
	z := &zipper{}
	z.w, _ = gzip.NewWriterLevel(&z.out, gzip.BestSpeed)
	return z
}

// gz returns text as a gzip member, in a slice of its own.
func (z *zipper) gz(text []byte) []byte {
	z.out.Reset()
	z.w.Reset(&z.out)
	z.w.Write(text)
	z.w.Close()
	return bytes.Clone(z.out.Bytes())
}
