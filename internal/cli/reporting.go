package cli

import (
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
	Dir      *reporting.Directory
	Receipts *reporting.Receipts
	Queue    *reporting.Queue
	Grid     *reporting.Grid
	Sinks    *reporting.Sinks
	now      func() time.Time
}

// openReporting opens the receipts and the review queue (approved uploads
// go to sink, the spool) and registers qualitymon_report_overdue with reg.
func openReporting(cfg *config.Config, set *plan.Set, st *store.Store, sink observation.Sink, reg prometheus.Registerer, now func() time.Time, logger *slog.Logger) (*reportingParts, error) {
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
	r := &reportingParts{Dir: dir, Receipts: rc, Queue: q, now: now,
		Grid:  &reporting.Grid{Set: set, Store: st, Receipts: rc, Queue: q},
		Sinks: &reporting.Sinks{Tokens: cfg.Uploads.Tokens, Queue: q, Receipts: rc}}
	if reg != nil {
		if err := reg.Register(&reporting.Collector{Grid: r.Grid, Dir: dir, Now: now, Logger: logger}); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Register mounts GET /api/v1/completeness.
func (r *reportingParts) Register(mux access.Router) {
	mux.Handle("GET "+reporting.CompletenessPath, reporting.CompletenessHandler(r.Grid, r.Dir, r.now))
}

// Close closes the queue and the receipts.
func (r *reportingParts) Close() {
	r.Queue.Close()
	r.Receipts.Close()
}
