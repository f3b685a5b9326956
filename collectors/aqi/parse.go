package aqi

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/qualitymon/qualitymon/internal/ingest"
)

// Record is one line of a daily AQI file: index, date, grade, AQI, then
// pollutant columns that are not read.
type Record struct {
	Row   int
	Date  string
	Grade string
	AQI   string
}

// Grades are the AQI categories of HJ 633-2012, as the files spell them.
var Grades = []string{"优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"}

// Parse reads a daily AQI file (no header; UTF-8, with or without BOM, or
// GBK). It checks the shape of each line; the validator checks the values.
// Lines of the wrong shape are returned as ingest.Errors together with the
// records of the other lines, so that every problem can be reported at once.
func Parse(file string, r io.Reader) ([]Record, error) {
	dec, _, err := ingest.Decode(r)
	if err != nil {
		return nil, ingest.InFile(file, err)
	}
	cr := csv.NewReader(dec)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var out []Record
	var errs ingest.Errors
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, append(errs, &ingest.Error{File: file, Row: pe.Line, Column: fmt.Sprintf("column %d", pe.Column), Message: pe.Err.Error()})
			}
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 4 {
			errs = append(errs, &ingest.Error{File: file, Row: line, Column: "line", Value: strings.Join(rec, ","),
				Message: fmt.Sprintf("%d columns", len(rec)), Expected: "index,date,grade,AQI,… (at least 4 columns)"})
			continue
		}
		r := Record{Row: line, Date: strings.TrimSpace(rec[1]), Grade: strings.TrimSpace(rec[2]), AQI: strings.TrimSpace(rec[3])}
		if r.Grade != "" && !known(r.Grade) {
			errs = append(errs, &ingest.Error{File: file, Row: line, Column: "grade", Value: r.Grade,
				Message: fmt.Sprintf("unknown grade %q", r.Grade), Expected: strings.Join(Grades, ", ")})
			continue
		}
		out = append(out, r)
		if len(errs) >= ingest.MaxErrors {
			break
		}
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

func known(g string) bool {
	for _, x := range Grades {
		if g == x {
			return true
		}
	}
	return false
}
