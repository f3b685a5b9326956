package upload

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// auditRecord is one line of the audit log: the accepting line of an
// upload before its rows go to the sink (auditFirst), and the line of
// every upload's outcome.
type auditRecord struct {
	Time         time.Time `json:"time"`
	Bureau       string    `json:"bureau,omitempty"`
	RemoteAddr   string    `json:"remote_addr"`
	ForwardedFor string    `json:"forwarded_for,omitempty"`
	File         string    `json:"file,omitempty"`
	SHA256       string    `json:"sha256,omitempty"`
	Size         int64     `json:"size"`
	ContentType  string    `json:"content_type,omitempty"`
	// Via is how a web workspace upload came: 网页上传 (a file) or 网页填报
	// (figures typed into the due grid); empty for the API.
	Via    string `json:"via,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
	Status int    `json:"status"`
	Result string `json:"result"`
	// Rows is the number of rows handed to the sink (result accepting).
	Rows    int                  `json:"rows,omitempty"`
	Summary *observation.Summary `json:"summary,omitempty"`
	Pending bool                 `json:"pending,omitempty"`
	Errors  int                  `json:"errors,omitempty"`
	// Warnings counts the plausibility warnings, WarningsConfirmed says
	// the reporter confirmed them (confirm_warnings=1, 已核实).
	Warnings          int    `json:"warnings,omitempty"`
	WarningsConfirmed bool   `json:"warnings_confirmed,omitempty"`
	Error             string `json:"error,omitempty"`
	Archive           string `json:"archive,omitempty"`
	// Refused lists the rows InfluxDB refused (result "refused"); Summary
	// then counts exactly what was stored, and SetAside is where the
	// refused rows were kept.
	Refused  []RefusedRow `json:"refused,omitempty"`
	SetAside string       `json:"set_aside,omitempty"`
}

// archiver keeps the originals as dir/<date>/<sha256>.<ext>, one file per
// content and day (what an operator looks for, and the tests). Each file is
// written and fsynced before it gets its name (durable.Dir.Create), outside
// any lock, so concurrent uploads fsync in parallel; the names added to a
// day's directory share the directory's fsync (group commit).
type archiver struct {
	dir string
	mu  sync.Mutex
	day string       // the day whose directory d is
	d   *durable.Dir // the directory of day, made durable in dir
}

// dayDir returns the group fsync of dir/day, creating the directory (and
// making its entry durable) the first time.
func (a *archiver) dayDir(day string) (*durable.Dir, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.day == day {
		return a.d, nil
	}
	path := filepath.Join(a.dir, day)
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, err
	}
	if err := durable.SyncDir(a.dir); err != nil {
		return nil, err
	}
	a.day, a.d = day, durable.NewDir(path)
	return a.d, nil
}

// path is where the original with the hash sum is archived on at's day.
func (a *archiver) path(at time.Time, sum, ext string) string {
	return filepath.Join(a.dir, at.Format("2006-01-02"), sum+ext)
}

// archive keeps the original file durably at path (from a.path). The same
// content uploaded twice on a day is kept once.
func (a *archiver) archive(path string, data []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	d, err := a.dayDir(filepath.Base(filepath.Dir(path)))
	if err != nil {
		return err
	}
	return d.Create(filepath.Base(path), data, 0o640)
}
