// Package ingest is the one path of a reported figure: read (the file
// formats and layouts: Open, NewCSV) → validate (Validator: known indicator
// and region, a period valid for the indicator's frequency and not in the
// future, a number within the indicator's valid range, no key twice in one
// input) → scope (the reporter's regions and indicators) → derive check
// (CheckDerived: the catalogue's derived indicators, internal/derive, computed
// from the batch only to refuse contradicting figures; derived figures are
// computed when read, never stored) → sink. Pipeline.Ingest runs it for
// uploads and collectors; `qualitymon import` (internal/bulk) reads a large
// file through the same readers (OpenAs) and the same Validator, memoised
// (Validator.Memoised), and CheckDerived. CSV is split by one fast reader that
// hands the lines it is not sure of to encoding/csv (fastcsv.go). Errors
// name the file, row and column.
package ingest
