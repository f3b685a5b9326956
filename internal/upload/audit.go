package upload

import (
	"time"

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
	// Archive is the archive file that holds the original: a day's
	// append-only file (archive.go; the record is found by SHA256), or,
	// written before it, the original's own file <date>/<sha256>.<ext>.
	Archive string `json:"archive,omitempty"`
	// Refused lists the rows InfluxDB refused (result "refused"); Summary
	// then counts exactly what was stored, and SetAside is where the
	// refused rows were kept.
	Refused  []RefusedRow `json:"refused,omitempty"`
	SetAside string       `json:"set_aside,omitempty"`
}
