package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// signedIn is the context key of the SHA-256 of a token whose bureau has
// signed in to the web workspace (internal/web): authenticate takes it in
// place of the Authorization header.
type signedIn struct{}

// MaxBytes is the largest upload accepted (uploads.max_bytes).
func (h *Handler) MaxBytes() int64 { return h.cfg.MaxBytes }

// Known says whether a token with this SHA-256 is configured.
func (h *Handler) Known(sum [sha256.Size]byte) bool {
	_, ok := h.dir.ByHash(sum)
	return ok
}

// Via values: how a bureau's upload came (the audit line's "via").
const (
	// ViaWeb is a file chosen in the web workspace.
	ViaWeb = "网页上传"
	// ViaEntry is figures typed into the due grid of the web workspace.
	ViaEntry = "网页填报"
)

// SubmitOptions say how Submit sends a file: DryRun validates only,
// ConfirmWarnings is the clerk's 已核实 (confirm_warnings=1), Via is
// recorded in the audit line (ViaWeb when empty).
type SubmitOptions struct {
	DryRun, ConfirmWarnings bool
	Via                     string
}

// via is the context key of the audit line's "via" of a Submit.
type via struct{}

// Submit runs a file that a bureau, signed in to the web workspace with the
// token of this SHA-256, chose in its browser through exactly what
// POST /api/v1/uploads does with it (a multipart form with one "file"):
// the token's scope, max_bytes and the limits, the pipeline, the archive,
// the audit line (with the browser's address) and the metrics. dryRun
// validates only. The answer is the API's, with its HTTP status.
func (h *Handler) Submit(r *http.Request, sum [sha256.Size]byte, name, contentType string, data []byte, opt SubmitOptions) *Response {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	hdr := textproto.MIMEHeader{}
	quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quote.Replace(name)))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	hdr.Set("Content-Type", contentType)
	part, err := mw.CreatePart(hdr)
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return &Response{Status: http.StatusInternalServerError, Error: "preparing the upload: " + err.Error()}
	}
	u := Path + "?dry_run=" + strconv.FormatBool(opt.DryRun)
	if opt.ConfirmWarnings {
		u += "&confirm_warnings=1"
	}
	if opt.Via == "" {
		opt.Via = ViaWeb
	}
	ctx := context.WithValue(context.WithValue(r.Context(), signedIn{}, sum), via{}, opt.Via)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return &Response{Status: http.StatusInternalServerError, Error: err.Error()}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.RemoteAddr = r.RemoteAddr
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		req.Header.Set("X-Forwarded-For", f)
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	h.ServeHTTP(rec, req)
	var resp Response
	if err := json.Unmarshal(rec.body.Bytes(), &resp); err != nil {
		return &Response{Status: http.StatusInternalServerError, Error: "reading the upload's answer: " + err.Error()}
	}
	resp.Status = rec.code
	return &resp
}

// recorder keeps the API's answer for Submit.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
