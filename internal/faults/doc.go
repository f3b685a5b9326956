// Package faults holds the end-to-end fault tests of "Nothing lost" (README)
// that need the real programs: a real `qualitymon serve`, built from this
// tree, over a private real InfluxDB 1.8.10 (testenv.StartInflux), with
// bureaus posting uploads over HTTP while one of the two is killed with
// SIGKILL:
//
//   - TestInfluxKilledMidUpload: InfluxDB dies while uploads are being
//     posted and written, and comes back;
//   - TestQualitymonKilledMidFlush: qualitymon dies while its flusher is
//     writing to InfluxDB, and is started again on the same spool;
//   - TestReviewKilledAtEachStep: qualitymon dies at each step of a
//     reviewer's 批准 (stopped there by QUALITYMON_FAULT_HALT_REVIEW, or
//     while InfluxDB holds its answer) and is started again;
//   - TestReviewFullDisk: the review_dir and the upload audit log on full
//     tmpfs file systems (root; otherwise skipped, or failed under CI).
//
// Each asserts exactly what InfluxDB stores afterwards: every acknowledged
// row once, with its value, nothing that was not sent, and no replay
// counted as a revision. The fault tests of the parts alone live beside
// them: internal/spool (quarantine, torn tail, full disk, commit slots, the
// spool killed in a helper process) and internal/upload (partial writes,
// full disk).
//
// Between qualitymon and InfluxDB the tests put a pass-through proxy, so
// that they can hold one write after InfluxDB has stored it and before
// qualitymon hears so: the crash window where a replay must be idempotent.
// Everything else passes through unchanged.
//
// The package has no code of its own; its tests run under go test ./...
// (scripts/test.sh) and, like every test that needs InfluxDB, fail rather
// than skip under CI=true.
package faults
