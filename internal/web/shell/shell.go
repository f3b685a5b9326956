package shell

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/param"
)

//go:embed templates static
var files embed.FS

// CSP is the Content-Security-Policy of every page: scripts, styles and
// images from qualitymon itself only, no inline script or style.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Register adds the static assets to mux as public routes (the scorecard
// behind web.auth and the workspace with its own sign-in both use them):
// /static/… (cached for an hour) and /favicon.ico.
func Register(mux access.Router) {
	static, _ := fs.Sub(files, "static")
	public := access.As(mux, access.Public)
	public.Handle("GET /favicon.ico", Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		http.ServeFileFS(w, r, files, "static/favicon.svg")
	})))
	public.Handle("GET /static/", Secure(http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static)))))
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// CSS is the stylesheet, for a page saved as a file with its style inline
// (qualitymon report -o).
func CSS() (template.CSS, error) {
	b, err := files.ReadFile("static/site.css")
	return template.CSS(b), err
}

// Secure sets the security headers of every response.
func Secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// Error is an error with the status a person should see and its message
// (in Chinese).
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// NotFound is a 404 with the formatted message.
func NotFound(format string, a ...any) error {
	return &Error{http.StatusNotFound, fmt.Sprintf(format, a...)}
}

// BadRequest is a 400 with the formatted message.
func BadRequest(format string, a ...any) error {
	return &Error{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

// Templates are an application's page templates with the shared ones.
type Templates struct {
	t   *template.Template
	log *slog.Logger
}

// Parse parses the application's templates (patterns in app) beside the
// shared ones, with the formatting functions ([Funcs]) and the
// application's own funcs; logger logs the failures [Templates.Fail]
// shows as 503.
func Parse(app fs.FS, funcs template.FuncMap, logger *slog.Logger, patterns ...string) (*Templates, error) {
	t, err := template.New("").Funcs(Funcs).Funcs(funcs).ParseFS(files, "templates/*.html")
	if err == nil {
		t, err = t.ParseFS(app, patterns...)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the page templates: %w", err)
	}
	return &Templates{t: t, log: logger}, nil
}

// Handler serves f with the security headers; an error f returns is
// answered by Fail.
func (ts *Templates) Handler(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			ts.Fail(w, r, err)
		}
	}))
}

// Fail answers an error page: an *Error with its status, a bad parameter
// (*param.Error) with param.Status, a refusal for load (an error with
// RetryAfterSeconds, e.g. *evalcache.BusyError) with 503 and Retry-After;
// anything else (a store failure) is logged once and shown as 503.
func (ts *Templates) Fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusServiceUnavailable
	var he *Error
	var pe *param.Error
	var busy interface{ RetryAfterSeconds() int }
	if errors.As(err, &he) {
		code = he.Code
	} else if errors.As(err, &pe) {
		code = param.Status
	} else if errors.As(err, &busy) {
		w.Header().Set("Retry-After", strconv.Itoa(busy.RetryAfterSeconds()))
	} else {
		ts.log.Error("web page failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	ts.t.ExecuteTemplate(w, "error.html", map[string]any{"Code": code, "Message": err.Error(), "Title": http.StatusText(code)})
}

// Render executes a page template into a buffer first, so that a template
// error never leaves half a page.
func (ts *Templates) Render(w http.ResponseWriter, name string, data any) error {
	return ts.RenderStatus(w, http.StatusOK, name, data)
}

// RenderStatus is Render answering with the status code.
func (ts *Templates) RenderStatus(w http.ResponseWriter, code int, name string, data any) error {
	var b bytes.Buffer
	if err := ts.t.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(b.Bytes())
	return err
}

// Attach answers body as a download of the type, saved as filename.
func Attach(w http.ResponseWriter, contentType, filename string, body []byte) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	_, err := w.Write(body)
	return err
}

// Execute writes the template to w as it goes (a file, not a response).
func (ts *Templates) Execute(w io.Writer, name string, data any) error {
	return ts.t.ExecuteTemplate(w, name, data)
}
