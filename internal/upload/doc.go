// Package upload receives the statistics bureaus' files: POST /api/v1/uploads
// with a CSV or XLSX body (or a multipart form with a "file" field), a
// bearer token per bureau stored hashed and scoped to regions and
// optionally indicators, validation through the shared ingest.Validator
// (the whole file accepted or rejected), an audit line and an archived
// original for every upload, and the accepted rows handed to the sink
// (the durable spool in serve). client.go is the other end: qualitymon
// upload.
//
// Answers (JSON, see Response):
//
//	200  accepted (or, with ?dry_run=true, valid): accepted, new, revised,
//	     unchanged, pending, dry_run
//	400  malformed request (bad multipart form, no "file" field or more
//	     than one file, bad dry_run)
//	401  missing or unknown token (WWW-Authenticate: Bearer)
//	403  rows outside the token's regions or indicators: nothing written,
//	     every offending cell listed
//	405  not POST
//	413  body over max_bytes
//	415  not text/csv, XLSX or multipart/form-data
//	422  invalid rows: nothing written, every error listed with row,
//	     column, value, message and what was expected; or InfluxDB refused
//	     rows of an accepted upload (a partial write, e.g. a field-type
//	     conflict): "refused" lists them, the summary says what was stored
//	     (read back from InfluxDB), the refused rows are set aside for an
//	     operator; sending them again cannot succeed
//	503  the sink could not take the batch (the spool's disk is full, ...),
//	     or the upload's audit line could not be written durably (the
//	     audit log's disk is full, ...): nothing was accepted, Retry-After
//	     says when to try again; or a large file (any workbook, a CSV of
//	     ingest.LargeCSV bytes or more) found limits.concurrent_parses
//	     other large files being read (Retry-After: BusyRetryAfter)
//
// Audit or refuse: an upload that passed every check gets an audit line
// "accepting" (who, from where, which file, its SHA-256, how many rows),
// fsynced, before any row goes to the sink; when it cannot be written the
// upload is refused with 503 and nothing is stored. Every upload then gets
// the line of its outcome (accepted, rejected, refused, error, ...).
package upload
