// Package ingest is the one path of a reported figure: read (the file
// formats and layouts: Open, NewCSV) → validate (Validator: known indicator
// and region, a period valid for the indicator's frequency and not in the
// future, a number within the indicator's valid range, no key twice in one
// input) → scope (the reporter's regions and indicators) → derive (Deriver:
// the catalogue's derived indicators) → sink. Pipeline.Ingest runs it for
// uploads and collectors; the fast importer (internal/bulk) streams through
// the same Validator and Deriver. Errors name the file, row and column.
package ingest
