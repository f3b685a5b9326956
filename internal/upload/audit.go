package upload

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/observation"
)

// auditRecord is one line of the audit log.
type auditRecord struct {
	Time         time.Time            `json:"time"`
	Bureau       string               `json:"bureau,omitempty"`
	RemoteAddr   string               `json:"remote_addr"`
	ForwardedFor string               `json:"forwarded_for,omitempty"`
	File         string               `json:"file,omitempty"`
	SHA256       string               `json:"sha256,omitempty"`
	Size         int64                `json:"size"`
	ContentType  string               `json:"content_type,omitempty"`
	DryRun       bool                 `json:"dry_run,omitempty"`
	Status       int                  `json:"status"`
	Result       string               `json:"result"`
	Summary      *observation.Summary `json:"summary,omitempty"`
	Pending      bool                 `json:"pending,omitempty"`
	Errors       int                  `json:"errors,omitempty"`
	Error        string               `json:"error,omitempty"`
	Archive      string               `json:"archive,omitempty"`
	// Refused lists the rows InfluxDB refused (result "refused"); Summary
	// then counts exactly what was stored, and SetAside is where the
	// refused rows were kept.
	Refused  []RefusedRow `json:"refused,omitempty"`
	SetAside string       `json:"set_aside,omitempty"`
}

// auditLog appends JSON lines and fsyncs each.
type auditLog struct {
	mu sync.Mutex
	f  *os.File
}

func openAudit(path string) (*auditLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &auditLog{f: f}, nil
}

func (a *auditLog) write(r *auditRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing audit log %s: %w", a.f.Name(), err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("fsync audit log %s: %w", a.f.Name(), err)
	}
	return nil
}

func (a *auditLog) close() error { return a.f.Close() }

// archive keeps the original file as dir/<date>/<sha256>.<ext> (durably)
// and returns its path. The same content uploaded twice on a day is kept once.
func archive(dir string, at time.Time, sum, ext string, data []byte) (string, error) {
	day := filepath.Join(dir, at.Format("2006-01-02"))
	path := filepath.Join(day, sum+ext)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(day, 0o750); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(day, ".upload-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return "", err
	}
	d, err := os.Open(day)
	if err != nil {
		return "", err
	}
	defer d.Close()
	return path, d.Sync()
}
