// Package reporting is the core of the 报送工作台, the statistics bureaus'
// workspace: what each bureau must report and when, whether it has, a
// template to fill, review before figures go live, and completeness across
// bureaus. The web pages (/bureau, /review), the completeness API and CLI
// and the qualitymon_report_overdue metric are built on it.
//
// What is due. Every tracked target of every plan needs its indicator for
// each region it is judged on (the region, every region of a group, every
// region averaged by an average target — not the parent the mean is stored
// for) and for every period of the indicator's frequency from the year
// before the plan starts (the baseline year) through the target's deadline
// year, plus the reference year of a multiple_of target; only periods that
// have ended are listed (Expected). A period is due its publication lag
// after it ends on the calendar of the config's timezone (catalog
// Indicator.Due, the one rule of lateness, from which evaluate's staleness
// follows too; publication_lag in the catalogue, by default 90 days for a
// year). Each item is then (Classify):
//
//	已报送 reported  a figure is stored (value, when, by whom, on time or late)
//	待审核 held      an upload with the figure waits for a reviewer
//	未报送 open      no figure yet, and the due date has not passed
//	逾期   overdue   the due date has passed without a figure
//
// Derived indicators count through what is stored: a pass rate derived
// from a reported non-pass rate is stored beside it by the pipeline, so the
// item of the pass rate is reported as soon as either is. A bureau whose
// token names only the source indicator (food_sampling_fail_rate) is
// responsible for the derived one too (InScope). A target's indicator that
// is itself derived as an average (average_of) is not asked for separately:
// the members' figures are.
//
// Who reported. InfluxDB keeps value, revision, reported_at and source for
// each figure, not who sent it. Every upload accepted through the sinks of
// this package (SinkFor) — directly, or on approval from the review queue —
// appends a receipt (bureau, submitted and stored times, keys) to
// review_dir/receipts.jsonl; the grid matches a stored figure to the receipt
// with its key and reported_at. A figure without a receipt (import,
// collectors, uploads before this log existed) shows its source instead.
//
// Timeliness: a figure is on time when it was first submitted by its due
// date (the submission time of an upload held for review, not its approval;
// the first report of a key, not a later revision).
//
// Review. A token with review: required — and, by default
// (review.hold_reviewers_own), a reviewer's token — hands its uploads to
// the Queue (an observation.Sink), which keeps each accepted batch on disk
// under review_dir (its header in uploads/, its rows in rows/, both
// fsynced; once decided, both in archive/, never read at start; nothing in
// memory, so that several serve processes may share the directory) and
// answers held: nothing is stored and no evaluation sees it. A reviewer (role: reviewer) whose
// regions cover the upload, and who is not its bureau, approves it — the
// batch then goes to the real sink (the spool in serve) with the approval
// time as its reported_at, so --known-at reproduces what was live when —
// or returns it with a comment the bureau sees (ForBureau). Review is a
// state machine, held → approved → stored or held → returned (review.go):
// every step is a JSON line in review_dir/audit.jsonl (who, when, what,
// from which address), fsynced before the step is made; the decision is
// durable before any row goes to the sink; a step that cannot be written
// is not made (ErrUnavailable); after a crash OpenQueue marks the audited
// steps that were not made and Complete stores what was approved, never
// what is held or returned.
package reporting
