package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/testenv"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestEncodingDecidedForWholeFile: GBK text that begins after more than
// 64 KiB of ASCII is read as GBK, not garbled.
func TestEncodingDecidedForWholeFile(t *testing.T) {
	v := shippedValidator(t)
	head := testenv.ASCIIRows(2000)
	if len(head) < 70<<10 {
		t.Fatalf("head is %d bytes", len(head))
	}
	data := append(head, testenv.GBK(t, "aqi_daily,青岛市,2020-01-01,60,青岛市生态环境局\n")...)
	dec, enc, err := Decode(bytes.NewReader(data))
	if err != nil || enc != "gb18030" {
		t.Fatalf("%s, %v", enc, err)
	}
	text, _ := io.ReadAll(dec)
	if !strings.HasSuffix(string(text), "aqi_daily,青岛市,2020-01-01,60,青岛市生态环境局\n") {
		t.Fatalf("decoded tail %q", text[len(text)-80:])
	}
	// Through the pipeline: the source is stored as written.
	src, err := Open("late-gbk.csv", bytes.NewReader(data), v.Catalog, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	obs, err := v.ReadAll(src)
	if err != nil {
		t.Fatal(err)
	}
	last := obs[len(obs)-1]
	if last.Region != "370200" || last.Source != "青岛市生态环境局" || last.Value != 60 {
		t.Fatalf("last row %+v", last)
	}
}

func TestEncodingRefused(t *testing.T) {
	head := testenv.ASCIIRows(2000) // 2001 lines
	utf := []byte("aqi_daily,370200,2020-01-01,60,青岛市生态环境局\n")
	gbk := testenv.GBK(t, "aqi_daily,370200,2020-01-02,60,青岛市生态环境局\n")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"UTF-8 then GBK", cat(head, utf, gbk), ":2003:file: mixed text encodings: row 2002 is UTF-8 text but this row is not UTF-8"},
		{"GBK then UTF-8", cat(head, gbk, utf), ":2002:file: mixed text encodings: row 2003 is UTF-8 text but this row is not UTF-8"},
		{"BOM then GBK", cat([]byte("\xef\xbb\xbf"), head, gbk), ":2002:file: the file starts with a UTF-8 byte-order mark but this line is not UTF-8 text"},
		{"neither", cat(head, []byte("aqi_daily,370200,2020-01-02,60,\xff\xfe\n")), ":2002:file: this row is neither UTF-8 nor GBK/GB18030 text"},
		{"GBK cut short", cat(head, gbk[:len(gbk)-1], []byte{0x81}), ":2002:file: this row is neither UTF-8 nor GBK/GB18030 text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open("f.csv", bytes.NewReader(c.in), nil, Limits{})
			if err == nil || !strings.Contains(err.Error(), "f.csv"+c.want) {
				t.Fatalf("got %v\nwant f.csv%s", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "f.csv" || e.Value == "" || e.Expected == "" {
				t.Fatalf("error %#v", err)
			}
		})
	}
}

// TestEncodingKinds: the encodings accepted, from any reader.
func TestEncodingKinds(t *testing.T) {
	// A GBK character whose two bytes are also a valid UTF-8 character
	// (lead 0xC2–0xDF, trail 0xA1–0xBF): alone it proves nothing.
	twoByte, err := simplifiedchinese.GBK.NewDecoder().Bytes([]byte{0xc4, 0xa1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, enc string
		in        []byte
		want      string
	}{
		{"ascii", "utf-8", []byte("a,b\n"), "a,b\n"},
		{"utf-8", "utf-8", []byte("地区\n青岛\n"), "地区\n青岛\n"},
		{"bom", "utf-8-bom", []byte("\xef\xbb\xbf地区\n"), "地区\n"},
		{"gbk", "gb18030", testenv.GBK(t, "地区\n青岛\n"), "地区\n青岛\n"},
		{"gbk whose first line looks like UTF-8", "gb18030", append([]byte{0xc4, 0xa1, '\n'}, testenv.GBK(t, "青岛\n")...), string(twoByte) + "\n青岛\n"},
		{"gb18030 four-byte", "gb18030", append(testenv.GBK(t, "地区\n"), 0x81, 0x30, 0x81, 0x30, '\n'), "地区\n\u0080\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A reader that cannot seek is read into memory.
			dec, enc, err := Decode(io.MultiReader(bytes.NewReader(c.in)))
			if err != nil || enc != c.enc {
				t.Fatalf("%s, %v; want %s", enc, err, c.enc)
			}
			got, _ := io.ReadAll(dec)
			if string(got) != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
