package ingest

import (
	"errors"
	"io"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// Source yields raw rows until io.EOF.
type Source interface {
	Next() (*Raw, error)
}

// MaxErrors stops collecting errors from one input after this many.
const MaxErrors = 1000

// ReadAll validates every row of a source. It returns the observations when
// the whole input is valid, and otherwise every error (up to MaxErrors) and
// no observations: an input is accepted or rejected whole. An input without
// a single row is an error.
func (v *Validator) ReadAll(src Source) ([]observation.Observation, error) {
	out, _, err := v.readAll(src)
	return out, err
}

// readAll is ReadAll that also numbers the observations by their rows.
func (v *Validator) readAll(src Source) ([]observation.Observation, []int, error) {
	// The rows are collected compactly (about 20 bytes each, where an
	// Observation takes 104 and a growing slice of them up to twice that)
	// and expanded once, at their exact number, when the input is valid.
	var out observation.Compact
	var rows []int32
	var errs Errors
	var dedup Dedup
	for {
		raw, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				errs = append(errs, e)
				break
			}
			return nil, nil, err
		}
		o, rowErrs := v.Row(raw)
		if len(rowErrs) == 0 {
			if e := dedup.Check(raw.File, raw.Row, &o); e != nil {
				rowErrs = append(rowErrs, e)
			}
		}
		errs = append(errs, rowErrs...)
		if len(errs) >= MaxErrors {
			break
		}
		if len(errs) == 0 {
			out.Add(&o)
			rows = append(rows, int32(raw.Row))
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	if out.Len() == 0 {
		name := ""
		if n, ok := src.(interface{ Name() string }); ok {
			name = n.Name()
		}
		return nil, nil, Errors{NoRows(name)}
	}
	nums := make([]int, len(rows))
	for i, r := range rows {
		nums[i] = int(r)
	}
	return out.Observations(), nums, nil
}

// NoRows is the error of an input without a single figure (a header only,
// an empty template): refused by every path.
func NoRows(file string) *Error {
	return &Error{File: file, Column: "file", Message: "no data rows", Expected: "a header row and at least one row of figures"}
}
