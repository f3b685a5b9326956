package ingest

import (
	"errors"
	"io"
	"path/filepath"
	"strings"

	"github.com/qualitymon/qualitymon/internal/catalog"
)

// File yields the raw rows of one file (see Open).
type File interface {
	Source
	Close() error
}

// Formats are the file extensions qualitymon reads.
var Formats = []string{".csv", ".xlsx"}

// Open turns one file's content into raw rows. The format comes from the
// name's extension (.csv or .xlsx); the layout from the first non-blank row:
// a metadata line (数据库：…, 指标：…) starts the 国家统计局 export layout,
// anything else is the canonical long layout. CSV text may be UTF-8 with or
// without BOM, or GBK/GB18030, decided for the whole file (Decode). cat resolves the indicator of an export; nil
// leaves that to the validator. lim bounds what the file may cost (zero:
// DefaultLimits). Uploads, the file drop and import all read files here.
func Open(file string, r io.Reader, cat *catalog.Catalog, lim Limits) (File, error) {
	return OpenAs(file, filepath.Ext(file), r, cat, lim)
}

// OpenAs is Open with the format given (".csv" or ".xlsx") rather than taken
// from the name: an upload's content type, or import's reading of any other
// name as CSV.
func OpenAs(file, format string, r io.Reader, cat *catalog.Catalog, lim Limits) (File, error) {
	var t Table
	switch strings.ToLower(format) {
	case ".csv":
		dec, _, err := Decode(r)
		if err != nil {
			return nil, InFile(file, err)
		}
		t = NewCSVTable(file, dec, lim) // Decode buffers
	case ".xlsx":
		var err error
		if t, err = NewXLSXTable(file, r, lim); err != nil {
			return nil, err
		}
	default:
		return nil, &Error{File: file, Column: "file", Message: "unsupported file type", Expected: strings.Join(Formats, " or ")}
	}
	p, err := peek(t)
	if err != nil {
		t.Close()
		return nil, err
	}
	if isMeta(p.first()) {
		return newExport(file, p, cat), nil
	}
	c, err := NewCanonical(file, p)
	if err != nil {
		t.Close()
		var e *Error
		if !errors.As(err, &e) {
			return nil, err
		}
		return nil, e
	}
	return c, nil
}
