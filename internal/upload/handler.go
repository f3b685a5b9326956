package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
)

// Path is where the handler is mounted.
const Path = "/api/v1/uploads"

// Content types.
const (
	TypeCSV       = "text/csv"
	TypeXLSX      = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypeMultipart = "multipart/form-data"
)

// extOf is the file kind of each upload content type.
var extOf = map[string]string{TypeCSV: ".csv", TypeXLSX: ".xlsx"}

// FileExt is the kind of an uploaded file, ".csv" or ".xlsx": by its name's
// extension, else by its content type; "" when neither says.
func FileExt(name, contentType string) string {
	if ext := strings.ToLower(filepath.Ext(name)); ext == ".csv" || ext == ".xlsx" {
		return ext
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	return extOf[mt]
}

// Results counted in qualitymon_uploads_total.
const (
	ResultAccepted     = "accepted"
	ResultDryRun       = "dry_run"
	ResultRejected     = "rejected"
	ResultUnauthorized = "unauthorized"
	ResultForbidden    = "forbidden"
	ResultError        = "error"
	// ResultRefused: InfluxDB refused rows of the upload (partial write).
	ResultRefused = "refused"
	// ResultAccepting is the audit line written (durably) before an
	// upload's rows go to the sink; the line with its outcome follows. Not
	// a result of qualitymon_uploads_total.
	ResultAccepting = "accepting"
)

// RetryAfter is the Retry-After of a 503 (seconds).
const RetryAfter = 30

// BusyRetryAfter is the Retry-After of a 503 for a large file that found
// every slot of the validator's Gate taken (limits.concurrent_parses): a
// slot frees as soon as another file has been read.
const BusyRetryAfter = 5

// RefusedRow is a row InfluxDB refused.
type RefusedRow struct {
	Indicator string  `json:"indicator"`
	Region    string  `json:"region"`
	Period    string  `json:"period"`
	Value     float64 `json:"value"`
}

// Response is the JSON body of every answer.
type Response struct {
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size,omitempty"`
	DryRun bool   `json:"dry_run"`
	observation.Summary
	Pending bool            `json:"pending"`
	Error   string          `json:"error,omitempty"`
	Errors  []*ingest.Error `json:"errors,omitempty"`
	// Warnings are the figures that look implausible against the previous
	// period (ingest.Warnings): a dry run lists them, an upload with them
	// is refused with 409 unless sent with confirm_warnings=1 (已核实).
	// The first ingest.MaxWarnings are listed; WarningCount counts all.
	Warnings     []ingest.Warning `json:"warnings,omitempty"`
	WarningCount int              `json:"warning_count,omitempty"`
	// Refused lists the rows InfluxDB refused (422 after a partial write);
	// the summary then counts what was stored.
	Refused []RefusedRow `json:"refused,omitempty"`
	// Status is the HTTP status (not in the JSON).
	Status int `json:"-"`

	// Held: accepted and waiting for a reviewer (review: required), not
	// stored yet; ReviewID names the held upload.
	Held     bool   `json:"held,omitempty"`
	ReviewID string `json:"review_id,omitempty"`
}

// Handler serves POST /api/v1/uploads.
type Handler struct {
	cfg Config
	// dir resolves a token to its bureau and scope.
	dir  *reporting.Directory
	v    *ingest.Validator
	pipe *ingest.Pipeline
	log  *slog.Logger
	// audit is the audit log: concurrent uploads share its fsyncs.
	audit   *durable.Log
	archive *archiver
	total   *prometheus.CounterVec
	// Now is the clock of audit lines, archive dates and reported_at.
	Now func() time.Time
	// SinkFor, when set, chooses the sink of a bureau's uploads (given the
	// token's bureau and the handler's sink): reporting.Sinks holds the
	// uploads of a token with review: required for a reviewer.
	SinkFor func(b *reporting.Bureau, sink observation.Sink) observation.Sink
	// History, when set, holds the previous periods' values of the
	// plausibility check (serve: the engine, engine.Engine.CurrentValues;
	// nil: the upload's own only).
	History ingest.History
}

// NewHandler checks the tokens' regions and indicators against the
// validator's tables, opens the audit log and registers
// qualitymon_uploads_total with reg (nil: not registered).
func NewHandler(cfg Config, v *ingest.Validator, s observation.Sink, reg prometheus.Registerer, logger *slog.Logger) (*Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pipe, err := ingest.NewPipeline(v, s)
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, v: v, pipe: pipe, log: logger, Now: time.Now}
	if h.dir, err = reporting.NewDirectory(cfg.Tokens, v.Catalog, v.Regions); err != nil {
		return nil, err
	}
	a, err := durable.OpenLog(cfg.AuditLog)
	if err != nil {
		return nil, fmt.Errorf("uploads.audit_log: %w", err)
	}
	h.audit, h.archive = a, newArchiver(cfg.ArchiveDir, h.Now())
	h.total = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qualitymon_uploads_total",
		Help: "Uploads received, by bureau and result (accepted, dry_run, rejected, unauthorized, forbidden, refused, error).",
	}, []string{"bureau", "result"})
	for _, b := range append(h.dir.Reporters(), h.dir.Reviewers()...) {
		for _, r := range []string{ResultAccepted, ResultRejected, ResultForbidden, ResultRefused} {
			h.total.WithLabelValues(b.Name, r)
		}
	}
	if reg != nil {
		if err := reg.Register(h.total); err != nil {
			a.Close()
			return nil, fmt.Errorf("uploads: registering metrics: %w", err)
		}
	}
	return h, nil
}

// Close closes the audit log and the archive's files.
func (h *Handler) Close() error { return errors.Join(h.audit.Close(), h.archive.close()) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, &Response{Status: http.StatusMethodNotAllowed, Error: "use POST to upload a file"})
		return
	}
	now := h.Now()
	rec := &auditRecord{Time: now, RemoteAddr: r.RemoteAddr, ForwardedFor: r.Header.Get("X-Forwarded-For"), ContentType: r.Header.Get("Content-Type")}
	rec.Via, _ = r.Context().Value(via{}).(string)
	resp := h.serve(w, r, now, rec)
	rec.Status = resp.Status
	rec.DryRun = resp.DryRun
	rec.Errors = len(resp.Errors)
	if rec.Error == "" {
		rec.Error = resp.Error
	}
	if rec.Result == ResultAccepted || rec.Result == ResultDryRun || rec.Result == ResultRefused {
		rec.Summary = &resp.Summary
		rec.Pending = resp.Pending
	}
	rec.Refused = resp.Refused
	h.total.WithLabelValues(rec.Bureau, rec.Result).Inc()
	if err := h.audit.Append(rec); err != nil {
		// The upload's accepting line, if it reached the sink, is on disk.
		h.log.Error("upload audit failed", "bureau", rec.Bureau, "sha256", rec.SHA256, "err", err)
	}
	writeJSON(w, resp)
}

// serve does the work; it fills rec (bureau, file, hash, result) as it goes.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, now time.Time, rec *auditRecord) *Response {
	tok := h.authenticate(r)
	if tok == nil {
		rec.Result = ResultUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="qualitymon uploads"`)
		msg := "missing bearer token (Authorization: Bearer TOKEN)"
		if r.Header.Get("Authorization") != "" {
			msg = "unknown token"
			w.Header().Set("WWW-Authenticate", `Bearer realm="qualitymon uploads", error="invalid_token"`)
		}
		return &Response{Status: http.StatusUnauthorized, Error: msg}
	}
	rec.Bureau = tok.Name
	rec.Result = ResultRejected
	dryRun := false
	if s := r.URL.Query().Get("dry_run"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return &Response{Status: http.StatusBadRequest, Error: fmt.Sprintf("dry_run=%q: want true or false", s)}
		}
		dryRun = b
	}
	confirm := false
	if s := r.URL.Query().Get("confirm_warnings"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return &Response{Status: http.StatusBadRequest, Error: fmt.Sprintf("confirm_warnings=%q: want 1 or 0", s)}
		}
		confirm = b
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != TypeCSV && mt != TypeXLSX && mt != TypeMultipart) {
		return &Response{Status: http.StatusUnsupportedMediaType, DryRun: dryRun,
			Error: fmt.Sprintf("unsupported content type %q: send %s, %s or %s with a \"file\" field", r.Header.Get("Content-Type"), TypeCSV, TypeXLSX, TypeMultipart)}
	}
	lim := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, h.cfg.MaxBytes)}
	r.Body = lim
	name, ext, data, resp := h.read(r, mt, params, lim)
	if resp != nil {
		resp.DryRun = dryRun
		return resp
	}
	sum := sha256.Sum256(data)
	rec.File, rec.Size, rec.SHA256 = name, int64(len(data)), hex.EncodeToString(sum[:])
	out := &Response{File: name, SHA256: rec.SHA256, Size: rec.Size, DryRun: dryRun}
	release, err := h.v.Gate.TryEnter(ext, int64(len(data)))
	if err != nil {
		rec.Result, rec.Error = ResultError, err.Error()
		w.Header().Set("Retry-After", strconv.Itoa(BusyRetryAfter))
		out.Status = http.StatusServiceUnavailable
		out.Error = fmt.Sprintf("服务器正在读取其他大文件,本次未读取、未写入任何数据,请 %d 秒后重试 (the server is reading other large files: nothing was read, try again in %d s)", BusyRetryAfter, BusyRetryAfter)
		return out
	}
	defer release()
	// The original is archived (written and fsynced) while the upload is
	// read and checked and its accepting line is fsynced; no row reaches
	// the sink before the archive is durable (auditFirst waits for it).
	archived := make(chan error, 1)
	rec.Archive = h.archive.path(now)
	go func() { archived <- h.archive.archive(rec.Archive, rec.SHA256, ext, now, data) }()
	archiveErr := sync.OnceValue(func() error { return <-archived })

	res, err := h.ingest(r.Context(), tok, name, ext, data, dryRun, confirm, now, rec, archiveErr)
	if res.HistoryErr != nil {
		h.log.Warn("plausibility check without the stored previous values", "bureau", tok.Name, "file", name, "err", res.HistoryErr)
	}
	out.Warnings, out.WarningCount = res.Warnings, res.WarningCount
	rec.Warnings, rec.WarningsConfirmed = res.WarningCount, confirm && res.WarningCount > 0
	if aerr := archiveErr(); aerr != nil {
		h.log.Error("upload archive failed", "bureau", tok.Name, "file", name, "err", aerr)
		rec.Result, rec.Error = ResultError, aerr.Error()
		out.Status, out.Error = http.StatusInternalServerError, "could not archive the upload; nothing was written"
		return out
	}
	var scopeErr *ingest.ScopeError
	var partial *store.PartialWriteError
	var warned *ingest.WarningsError
	switch {
	case errors.As(err, &scopeErr) && scopeErr.OnlyScope():
		rec.Result = ResultForbidden
		out.Status, out.Errors = http.StatusForbidden, scopeErr.Errors
		out.Error = fmt.Sprintf("%s may report only for %s; nothing was written", tok.Name, tok.Scope.RegionList)
		if tok.Scope.Indicators != nil {
			out.Error = fmt.Sprintf("%s may report only for %s and its own indicators; nothing was written", tok.Name, tok.Scope.RegionList)
		}
		return out
	case errors.As(err, &scopeErr):
		// Rows outside the scope and other errors: every one is listed,
		// and the answer is the one of invalid rows.
		rec.Result = ResultRejected
		out.Status, out.Errors = http.StatusUnprocessableEntity, scopeErr.Errors
		out.Error = fmt.Sprintf("%d errors, some rows outside the 报送范围 of %s (%s); nothing was written", len(out.Errors), tok.Name, tok.Scope.RegionList)
		return out
	case errors.As(err, &warned):
		rec.Result = ResultRejected
		rec.Warnings = warned.Count
		out.Status, out.Warnings, out.WarningCount = http.StatusConflict, warned.Warnings, warned.Count
		out.Error = fmt.Sprintf("%d 项数据与上期相比变化异常,请核实(见 warnings);核实无误后加参数 confirm_warnings=1 重新提交。未写入任何数据 "+
			"(%d figures look implausible against the previous period; send again with confirm_warnings=1 once checked: nothing was written)", warned.Count, warned.Count)
		return out
	case errors.As(err, &partial):
		h.log.Error("InfluxDB refused rows of an upload", "bureau", tok.Name, "file", name, "stored", partial.Stored.Accepted, "refused", len(partial.Refused), "set_aside", partial.SetAside, "err", partial.Err)
		rec.Result, rec.Error, rec.SetAside = ResultRefused, partial.Error(), partial.SetAside
		out.Status, out.Summary = http.StatusUnprocessableEntity, partial.Stored
		for _, o := range partial.Refused {
			out.Refused = append(out.Refused, RefusedRow{Indicator: o.Indicator, Region: o.Region, Period: o.Period.String(), Value: o.Value})
		}
		out.Error = fmt.Sprintf("InfluxDB refused %d of %d rows (%v); %d rows were stored (new %d, revised %d, unchanged %d). "+
			"The refused rows are listed in \"refused\" and were set aside for an operator: sending them again will fail the same way until the conflict is resolved",
			len(partial.Refused), len(partial.Refused)+partial.Stored.Accepted, partial.Err, partial.Stored.Accepted, partial.Stored.New, partial.Stored.Revised, partial.Stored.Unchanged)
		return out
	case errors.Is(err, errAudit):
		h.log.Error("upload refused: its audit line cannot be written", "bureau", tok.Name, "file", name, "err", err)
		rec.Result, rec.Error = ResultError, err.Error()
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		out.Status, out.Error = http.StatusServiceUnavailable, "the upload could not be audited (the audit log cannot be written): nothing was accepted, try again later"
		return out
	case errors.Is(err, errSink):
		h.log.Error("upload not accepted", "bureau", tok.Name, "file", name, "err", err)
		rec.Result, rec.Error = ResultError, err.Error()
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		out.Status, out.Error = http.StatusServiceUnavailable, "could not store the upload; nothing was accepted, try again later"
		if errors.Is(err, spool.ErrNoSpace) {
			out.Error = "the server's disk is full: nothing was accepted, try again later"
		}
		return out
	case err != nil:
		var errs ingest.Errors
		var one *ingest.Error
		switch {
		case errors.As(err, &errs):
			out.Errors = errs
		case errors.As(err, &one):
			out.Errors = ingest.Errors{one}
		default:
			h.log.Error("upload read failed", "bureau", tok.Name, "file", name, "err", err)
			rec.Result, rec.Error = ResultError, err.Error()
			out.Status, out.Error = http.StatusInternalServerError, "could not read the upload"
			return out
		}
		out.Status = http.StatusUnprocessableEntity
		out.Error = fmt.Sprintf("%d errors; nothing was written", len(out.Errors))
		if len(out.Errors) == 1 {
			out.Error = "1 error; nothing was written"
		}
		return out
	}
	if dryRun {
		rec.Result = ResultDryRun
		out.Status = http.StatusOK
		out.Accepted = res.Accepted
		return out
	}
	rec.Result = ResultAccepted
	out.Status, out.Summary, out.Pending = http.StatusOK, res.Summary, res.Pending
	out.Held, out.ReviewID = res.Held, res.ReviewID
	return out
}

// authenticate returns the bureau of the request's token, or nil
// (reporting.Directory: every configured hash is compared, in constant
// time, whatever matched).
func (h *Handler) authenticate(r *http.Request) *reporting.Bureau {
	if sum, ok := r.Context().Value(signedIn{}).([sha256.Size]byte); ok {
		b, _ := h.dir.ByHash(sum) // a bureau signed in to the web workspace (Submit)
		return b
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	b, _ := h.dir.Authenticate(tok)
	return b
}

// read returns the uploaded file: its display name, extension (.csv or
// .xlsx) and content, or the error response.
func (h *Handler) read(r *http.Request, mt string, params map[string]string, lim *limitedBody) (name, ext string, data []byte, resp *Response) {
	tooLarge := func(err error) *Response {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || lim.over {
			return &Response{Status: http.StatusRequestEntityTooLarge, Error: fmt.Sprintf("upload larger than %d bytes (uploads.max_bytes)", h.cfg.MaxBytes)}
		}
		return &Response{Status: http.StatusBadRequest, Error: "reading the request body: " + err.Error()}
	}
	if mt != TypeMultipart {
		ext = extOf[mt]
		name = dispositionName(r.Header.Get("Content-Disposition"))
		if name == "" {
			name = cleanName(r.URL.Query().Get("filename"))
		}
		if name == "" {
			name = "upload" + ext
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return "", "", nil, tooLarge(err)
		}
		return name, ext, data, nil
	}
	if params["boundary"] == "" {
		return "", "", nil, &Response{Status: http.StatusBadRequest, Error: "multipart/form-data without a boundary"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", "", nil, &Response{Status: http.StatusBadRequest, Error: "reading the multipart form: " + err.Error()}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", "", nil, &Response{Status: http.StatusBadRequest, Error: `multipart form has no "file" field`}
		}
		if err != nil {
			return "", "", nil, tooLarge(err)
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return "", "", nil, tooLarge(err)
			}
			continue
		}
		name = cleanName(part.FileName())
		if ext = FileExt(name, part.Header.Get("Content-Type")); ext == "" {
			return "", "", nil, &Response{Status: http.StatusUnsupportedMediaType,
				Error: fmt.Sprintf("file %q is neither .csv nor .xlsx (content type %q)", name, part.Header.Get("Content-Type"))}
		}
		if name == "" {
			name = "upload" + ext
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return "", "", nil, tooLarge(err)
		}
		// One file per upload: a second file part is refused, not ignored.
		for {
			next, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return name, ext, data, nil
			}
			if err != nil {
				return "", "", nil, tooLarge(err)
			}
			if next.FormName() == "file" || next.FileName() != "" {
				return "", "", nil, &Response{Status: http.StatusBadRequest,
					Error: fmt.Sprintf("more than one file in the upload (%q and %q): send one file per upload", name, cleanName(next.FileName()))}
			}
			if _, err := io.Copy(io.Discard, next); err != nil {
				return "", "", nil, tooLarge(err)
			}
		}
	}
}

// limitedBody notes that the size limit was hit, which a multipart parse
// error does not always pass on.
type limitedBody struct {
	io.ReadCloser
	over bool
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		l.over = true
	}
	return n, err
}

// errSink marks the sink's failure to take an accepted upload (503).
var errSink = errors.New("sink")

// errAudit marks an upload refused because its audit line could not be
// written durably (503): nothing reached the sink.
var errAudit = errors.New("audit log")

// auditFirst is the sink of an upload that passed every check: its
// "accepting" line (the upload's audit record so far: who, from where,
// which file, how many rows) is written to the audit log and fsynced
// before next sees a row, so that no row is stored without an audit line.
// The outcome (accepted, refused, error) follows in a second line once the
// sink has answered; an accepting line without one means the process
// stopped in between, and the rows may or may not be stored.
type auditFirst struct {
	h    *Handler
	rec  *auditRecord
	next observation.Sink
	// archived waits for the original to be archived durably.
	archived func() error
}

func (a *auditFirst) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	intent := *a.rec
	intent.Result, intent.Rows = ResultAccepting, len(batch)
	if err := a.h.audit.Append(&intent); err != nil {
		return observation.Result{}, fmt.Errorf("%w: %w", errAudit, err)
	}
	if err := a.archived(); err != nil {
		return observation.Result{}, fmt.Errorf("archive: %w", err)
	}
	return a.next.Accept(ctx, batch, meta)
}

// ingest runs the upload through the pipeline: read the file, validate,
// scope to the token, derive, and (unless a dry run) audit it (auditFirst)
// and hand it to the sink.
func (h *Handler) ingest(ctx context.Context, tok *reporting.Bureau, name, ext string, data []byte, dryRun, confirm bool, now time.Time, rec *auditRecord, archived func() error) (ingest.Outcome, error) {
	src, err := ingest.OpenAs(name, ext, bytes.NewReader(data), h.v.Catalog, h.v.Limits)
	if err != nil {
		return ingest.Outcome{}, err
	}
	defer src.Close()
	// Uploads either fail without writing anything, or have been accepted:
	// the sink finishes even if the client goes away.
	pipe := *h.pipe
	pipe.History = h.History
	if !dryRun {
		if h.SinkFor != nil {
			pipe.Sink = h.SinkFor(tok, h.pipe.Sink)
		}
		pipe.Sink = &auditFirst{h: h, rec: rec, next: pipe.Sink, archived: archived}
	}
	out, err := pipe.Ingest(context.WithoutCancel(ctx), ingest.Input{Name: name, Source: src, Scope: tok.Scope, DryRun: dryRun,
		Plausible: true, ConfirmWarnings: confirm,
		Meta: observation.Meta{Origin: "upload", Who: tok.Name, File: name, ReportedAt: now}})
	var errs ingest.Errors
	var one *ingest.Error
	var scoped *ingest.ScopeError
	var warned *ingest.WarningsError
	if err != nil && !errors.As(err, &errs) && !errors.As(err, &one) && !errors.As(err, &scoped) && !errors.As(err, &warned) {
		err = fmt.Errorf("%w: %w", errSink, err)
	}
	return out, err
}

// dispositionName is the file name of a Content-Disposition header.
func dispositionName(h string) string {
	if h == "" {
		return ""
	}
	_, p, err := mime.ParseMediaType(h)
	if err != nil {
		return ""
	}
	return cleanName(p["filename"])
}

// cleanName keeps the base name of a client-supplied file name.
func cleanName(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if s == "." || s == ".." {
		return ""
	}
	for len(s) > 200 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func writeJSON(w http.ResponseWriter, resp *Response) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.Status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(resp)
}
