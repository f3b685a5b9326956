package sample

import (
	"io"
	"strconv"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// Through is the last year the committed sample has figures for.
const Through = 2025

// WriteCSV writes observations in the canonical import layout.
func WriteCSV(w io.Writer, rows []observation.Observation) error {
	cw, err := ingest.NewCSVWriter(w, false)
	if err != nil {
		return err
	}
	cw.Write([]string{"indicator", "region", "period", "value", "source"})
	for _, o := range rows {
		cw.Write([]string{o.Indicator, o.Region, o.Period.String(), strconv.FormatFloat(o.Value, 'f', -1, 64), o.Source})
	}
	return cw.Flush()
}
