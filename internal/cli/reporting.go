package cli

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/store"
)

// reportingParts is serve's 报送工作台 core: the token directory, the
// receipts of who reported, the review queue (in uploads.review_dir), the
// due grid and the upload sinks per token. The bureau and review pages are
// built on these.
type reportingParts struct {
	// Overdue serves qualitymon_report_overdue; serve refreshes it after
	// each evaluation.
	Overdue  *reporting.Collector
	Dir      *reporting.Directory
	Receipts *reporting.Receipts
	Queue    *reporting.Queue
	Grid     *reporting.Grid
	Sinks    *reporting.Sinks
	now      func() time.Time
	stop     chan struct{}
	done     chan struct{}
}

// EnvHaltReview names a point of the review's steps (reporting.Step*) at
// which serve stops forever, for the fault tests that kill it there
// (internal/faults). Never set in production.
const EnvHaltReview = "QUALITYMON_FAULT_HALT_REVIEW"

// completeEvery is how often approved uploads whose rows could not be
// handed to the spool (a full disk) are handed over again.
const completeEvery = 30 * time.Second

// openReporting opens the receipts and the review queue (approved uploads
// go to sink, the spool) and registers qualitymon_report_overdue with reg.
// Approved uploads that a crash left unstored are handed to sink first,
// and again every completeEvery while any wait.
func openReporting(cfg *config.Config, set *plan.Set, st *store.Store, sink observation.Sink, reg prometheus.Registerer, now func() time.Time, getenv func(string) string, logger *slog.Logger) (*reportingParts, error) {
	dir, err := reporting.NewDirectory(cfg.Uploads.Tokens, set.Catalog, set.Regions)
	if err != nil {
		return nil, err
	}
	rc, err := reporting.OpenReceipts(filepath.Join(cfg.Uploads.ReviewDir, "receipts.jsonl"))
	if err != nil {
		return nil, err
	}
	q, err := reporting.OpenQueue(cfg.Uploads.ReviewDir, sink, st, rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	q.Now = now
	if point := getenv(EnvHaltReview); point != "" {
		q.Step = func(p string) {
			if p == point {
				logger.Warn("review halted for a fault test", "point", p, "env", EnvHaltReview)
				select {}
			}
		}
	}
	r := &reportingParts{Dir: dir, Receipts: rc, Queue: q, now: now, stop: make(chan struct{}), done: make(chan struct{}),
		Grid:  &reporting.Grid{Set: set, Store: st, Receipts: rc, Queue: q},
		Sinks: &reporting.Sinks{Queue: q, Receipts: rc}}
	r.Overdue = &reporting.Collector{Grid: r.Grid, Dir: dir, Now: now, Logger: logger}
	if cfg.Evaluation.FullRead != nil { // re-read only what was written since, as the evaluation does
		r.Overdue.FullRead = time.Duration(*cfg.Evaluation.FullRead)
	}
	if reg != nil {
		if err := reg.Register(r.Overdue); err != nil {
			q.Close()
			rc.Close()
			return nil, err
		}
	}
	for _, b := range dir.Reviewers() {
		if b.Review && !coveredByOther(dir, b) {
			logger.Warn("a reviewer's uploads are held but no other reviewer covers its regions: nobody can approve them (review.hold_reviewers_own)", "bureau", b.Name, "regions", b.Regions)
		}
	}
	r.complete(logger)
	go r.completeLoop(logger)
	return r, nil
}

// coveredByOther says whether another reviewer's regions cover b's.
func coveredByOther(dir *reporting.Directory, b *reporting.Bureau) bool {
	for _, o := range dir.Reviewers() {
		if o.Name != b.Name && o.Covers(b.Regions) {
			return true
		}
	}
	return false
}

// complete hands the approved uploads not yet stored to the spool.
func (r *reportingParts) complete(logger *slog.Logger) {
	if len(r.Queue.Approved()) == 0 {
		return
	}
	n, err := r.Queue.Complete(context.Background())
	if n > 0 {
		logger.Info("approved uploads handed to the spool", "uploads", n)
	}
	if err != nil {
		logger.Error("approved uploads not yet stored: handing them over again later", "waiting", len(r.Queue.Approved()), "err", err)
	}
}

func (r *reportingParts) completeLoop(logger *slog.Logger) {
	defer close(r.done)
	t := time.NewTicker(completeEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.complete(logger)
		}
	}
}

// Register mounts GET /api/v1/completeness.
func (r *reportingParts) Register(mux access.Router) {
	mux.Handle("GET "+reporting.CompletenessPath, reporting.CompletenessHandler(r.Grid, r.Dir, r.now, r.Overdue.Latest)) // from the background refresh, never on the request
}

// Close stops the hand-over loop and closes the queue and the receipts.
func (r *reportingParts) Close() {
	close(r.stop)
	<-r.done
	r.Queue.Close()
	r.Receipts.Close()
}
