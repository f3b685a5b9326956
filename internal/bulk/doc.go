// Package bulk imports large files of observations into InfluxDB quickly,
// with the same validation and the same all-or-nothing rule as every other
// ingest path.
//
// One file is imported in two passes:
//
//  1. Validate. The file is read through internal/ingest like every other
//     input (ingest.OpenAs: CSV in any encoding, through the fast CSV
//     reader, or XLSX; the canonical layout or the 国家统计局 export; or the
//     Options.Parse hook) and every row is validated by
//     [ingest.Validator.Row], the one set of rules, on a copy of the
//     validator that looks each distinct indicator, region and period cell
//     up once ([ingest.Validator.Memoised]). The rows of indicators the
//     catalogue derives others from are kept, and once the file is valid
//     the same [ingest.CheckDerived] as every other path refuses it when
//     a figure derived from its rows is out of range (derived figures are
//     computed when read, never stored). Keys seen twice are found with a
//     bitmap per series (indicator × region), so the memory of pass 1 grows
//     with the span of periods per series, not with the number of rows
//     (the error is [ingest.DuplicateKey], as everywhere). Each valid row is
//     appended as a 24-byte record to an unlinked temporary file. A file
//     with any error stops here and writes nothing; errors name
//     FILE:ROW:COLUMN, up to [ingest.MaxErrors].
//  2. Write. The records are read back in chunks of BatchSize/2 (25,000
//     by default) and each chunk goes to the store's one writer,
//     [store.Store.Write], as every other ingest path's rows do: it reads the
//     current values of the chunk's keys, classifies each row new, revised
//     or unchanged ([store.Classify]), writes the current values and the
//     values revisions supersede, and reports (observation_report) and
//     reconciles the keys of indicators another write was active on
//     meanwhile (writer_activity), so that a serve replica writing the same
//     keys loses nothing; with nobody else writing, a row is one point, as in
//     a raw POST, and a chunk's points are one write request. Two chunks are
//     written at once: the lookup, marks and checks of one run while InfluxDB
//     stores the other, and the store does not count two chunks of one file as
//     racing (they share no key). A chunk ends at BatchSize/2 rows or, from
//     three quarters of it on, where the indicator changes. Failures the store
//     calls retryable (connection refused or reset, 5xx, 429) are retried with
//     [store.Retry], a chunk at a time; a chunk written again changes nothing.
//
// # Memory
//
// Pass 1 holds a 1 MiB read buffer, the validator's memo of at most 65,536
// cells per column, the interned source strings and one bit per period in
// the span a series uses (28 years of yearly data: 8 bytes per series). Pass 2 holds one
// chunk of observations, its line protocol and the stored values of its
// keys that InfluxDB already has (the lookup keeps only the chunk's keys as
// the answer streams, whatever else InfluxDB answers: its Flux ignores a
// range before 1970), for the two chunks in flight and the one being read.
// Nothing grows with the number of rows of new data: 1,000,000 rows peak
// below 100 MB of RSS, most of it the batches and the runtime.
//
// # Benchmark
//
// BenchmarkImport1M (bench_test.go) generates a 1,000,000-row canonical CSV
// (97 yearly indicators × 367 regions × 28 years, plus daily AQI), starts a
// private InfluxDB 1.8.10 and, in alternating rounds, measures a raw HTTP
// POST of the current-value points the import writes (prebuilt in memory;
// the import also reads the chunks' current values and marks and checks
// its activity; same batch size, one connection, a batch answered 5xx posted
// again, fresh database) and the import of the CSV
// (fresh database), with the peak RSS of each phase (VmHWM, reset through
// /proc/self/clear_refs). It prints both rates, their ratio and the peak:
//
//	go test -run '^$' -bench Import1M -benchtime 1x ./internal/bulk/
//
// QUALITYMON_BENCH_ROUNDS sets the number of rounds (default 3) and
// QUALITYMON_BENCH_ROWS the size of the file (QUALITYMON_BENCH_BATCH the
// batch size of both).
package bulk
