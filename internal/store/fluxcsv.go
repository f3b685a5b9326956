package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/domain"

	"github.com/qualitymon/qualitymon/internal/period"
)

// fluxRow is one data row of a Flux CSV answer; Get returns a column by
// name ("" when the table has no such column). A row is only valid during
// the callback that receives it.
type fluxRow struct {
	cols map[string]int
	rec  []string
}

// Get returns the cell of the named column.
func (r fluxRow) Get(col string) string {
	if i, ok := r.cols[col]; ok && i < len(r.rec) {
		return r.rec[i]
	}
	return ""
}

// readFluxCSV reads the CSV answer of a Flux query made with a header row
// and no annotations (the dialect Values and currentRaw ask for), calling fn
// for every data row. Each table starts with its own header row
// (",result,table,…"); Flux reports a failure in-band, after any partial
// results, as a table with an "error" column: that is returned as an error.
// A malformed answer (cut off mid-row) is retryable.
func readFluxCSV(r io.Reader, fn func(fluxRow) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	row := fluxRow{cols: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &RetryableError{Err: fmt.Errorf("reading query result: %w", err)}
		}
		if len(rec) > 1 && rec[0] == "" && (rec[1] == "result" || rec[1] == "error") {
			if rec[1] == "error" {
				msg, err := cr.Read()
				if err != nil || len(msg) < 2 {
					return errors.New("query failed (error table without a message)")
				}
				return fmt.Errorf("query failed: %s", msg[1])
			}
			clear(row.cols)
			for i, name := range rec {
				row.cols[name] = i
			}
			continue
		}
		if len(row.cols) == 0 {
			return fmt.Errorf("query result: %s", strings.Join(rec, ","))
		}
		row.rec = rec
		if err := fn(row); err != nil {
			return err
		}
	}
}

// queryCSV runs a Flux query whose answer is read as plain CSV (a header
// row, no annotations) and calls fn for every data row (decodeAnswer).
func (s *Store) queryCSV(ctx context.Context, q string, fn func(fluxRow) error) error {
	header := true
	raw, err := s.queryAPI().QueryRaw(ctx, q, &domain.Dialect{Header: &header, Annotations: &[]domain.DialectAnnotations{}})
	if err != nil {
		return classify(fmt.Errorf("querying %s: %w", s.cfg.Bucket, err))
	}
	return decodeAnswer(raw, fn)
}

// decodeAnswer reads an answer received whole (readFluxCSV); a malformed
// one is not worth asking again.
func decodeAnswer(raw string, fn func(fluxRow) error) error {
	err := readFluxCSV(strings.NewReader(raw), fn)
	var re *RetryableError
	if errors.As(err, &re) {
		return re.Err
	}
	return err
}

// kinds remembers the period kind of each freq tag of an answer.
type kinds map[string]period.Kind

// of is the kind of a freq tag.
func (k kinds) of(freq string) (period.Kind, error) {
	if kind, ok := k[freq]; ok {
		return kind, nil
	}
	kind, err := period.ParseKind(freq)
	if err != nil {
		return 0, fmt.Errorf("stored point with bad freq tag: %w", err)
	}
	k[freq] = kind
	return kind, nil
}

// Time is the row's _time.
func (r fluxRow) Time() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, r.Get("_time"))
	if err != nil {
		return t, fmt.Errorf("query result: bad _time %q", r.Get("_time"))
	}
	return t, nil
}
