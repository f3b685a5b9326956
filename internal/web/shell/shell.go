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
// (in Chinese); Value, when set, is what the person asked for, shown after
// the message as it was given (an excerpt).
type Error struct {
	Code  int
	Msg   string
	Value string
}

func (e *Error) Error() string {
	if e.Value != "" {
		return e.Msg + ":" + param.Excerpt(e.Value)
	}
	return e.Msg
}

// NotFound is a 404 with the formatted message.
func NotFound(format string, a ...any) error {
	return &Error{Code: http.StatusNotFound, Msg: fmt.Sprintf(format, a...)}
}

// NotFoundValue is a 404 saying msg about value, the name asked for.
func NotFoundValue(msg, value string) error {
	return &Error{Code: http.StatusNotFound, Msg: msg, Value: value}
}

// BadRequest is a 400 with the formatted message.
func BadRequest(format string, a ...any) error {
	return &Error{Code: http.StatusBadRequest, Msg: fmt.Sprintf(format, a...)}
}

// Templates are an application's page templates with the shared ones, one
// set per language.
type Templates struct {
	t   map[Lang]*template.Template
	log *slog.Logger
}

// Parse parses the application's templates (patterns in app) beside the
// shared ones, with the formatting functions ([Funcs]) and the
// application's own funcs; logger logs the failures [Templates.Fail]
// shows as 503. Every language gets the same funcs.
func Parse(app fs.FS, funcs template.FuncMap, logger *slog.Logger, patterns ...string) (*Templates, error) {
	return ParseLangs(app, func(Lang) template.FuncMap { return funcs }, logger, patterns...)
}

// ParseLangs is Parse with the application's funcs in each language; every
// set also has T, the phrase catalogue of its language ([Lang.T]).
func ParseLangs(app fs.FS, funcs func(Lang) template.FuncMap, logger *slog.Logger, patterns ...string) (*Templates, error) {
	ts := &Templates{t: map[Lang]*template.Template{}, log: logger}
	for _, l := range Langs {
		t, err := template.New("").Funcs(Funcs).Funcs(template.FuncMap{"T": l.T}).Funcs(funcs(l)).ParseFS(files, "templates/*.html")
		if err == nil {
			t, err = t.ParseFS(app, patterns...)
		}
		if err != nil {
			return nil, fmt.Errorf("parsing the page templates: %w", err)
		}
		ts.t[l] = t
	}
	return ts, nil
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
	msg, value, want := err.Error(), "", ""
	var he *Error
	var pe *param.Error
	var busy interface{ RetryAfterSeconds() int }
	if errors.As(err, &he) {
		code, msg = he.Code, he.Msg
		if he.Value != "" {
			value = param.Excerpt(he.Value)
		}
	} else if errors.As(err, &pe) {
		code, msg, value, want = param.Status, "参数无效", pe.Name+"="+param.Excerpt(pe.Value), pe.Want
	} else if errors.As(err, &busy) {
		w.Header().Set("Retry-After", strconv.Itoa(busy.RetryAfterSeconds()))
	} else {
		ts.log.Error("web page failed", "path", r.URL.Path, "err", err)
		msg = "暂时无法读取数据,请稍后再试。"
	}
	l := LangOf(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "Accept-Language")
	w.WriteHeader(code)
	ts.t[l].ExecuteTemplate(w, "error.html", map[string]any{"Code": code, "Message": l.T(msg), "Value": value, "Want": want, "Title": l.T(StatusText(code)), "Lang": l})
}

// statusTexts are the Chinese names of the statuses an error page shows.
var statusTexts = map[int]string{
	http.StatusBadRequest:            "请求有误",
	http.StatusUnauthorized:          "需要登录",
	http.StatusForbidden:             "无权访问",
	http.StatusNotFound:              "未找到",
	http.StatusMethodNotAllowed:      "不支持此请求方式",
	http.StatusRequestEntityTooLarge: "内容过大",
	http.StatusUnsupportedMediaType:  "不支持的文件类型",
	http.StatusTooManyRequests:       "请求过于频繁",
	http.StatusInternalServerError:   "服务器内部错误",
	http.StatusServiceUnavailable:    "服务暂时不可用",
}

// StatusText is the Chinese name of an HTTP status, for error pages.
func StatusText(code int) string {
	if t, ok := statusTexts[code]; ok {
		return t
	}
	return "请求未能完成"
}

// Render executes a page template into a buffer first, so that a template
// error never leaves half a page.
func (ts *Templates) Render(w http.ResponseWriter, name string, data any) error {
	return ts.RenderStatus(w, http.StatusOK, name, data)
}

// RenderLang is Render in the language l (the page varies with the
// request's Accept-Language).
func (ts *Templates) RenderLang(w http.ResponseWriter, l Lang, name string, data any) error {
	w.Header().Set("Vary", "Accept-Language")
	return ts.render(w, l, http.StatusOK, name, data)
}

// RenderStatus is Render answering with the status code.
func (ts *Templates) RenderStatus(w http.ResponseWriter, code int, name string, data any) error {
	return ts.render(w, Zh, code, name, data)
}

func (ts *Templates) render(w http.ResponseWriter, l Lang, code int, name string, data any) error {
	var b bytes.Buffer
	if err := ts.t[l].ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(b.Bytes())
	return err
}

// Attach answers body as a download of the type, saved as filename.
func Attach(w http.ResponseWriter, contentType, filename string, body []byte) error {
	AttachHeader(w, contentType, filename)
	_, err := w.Write(body)
	return err
}

// AttachHeader sets the headers of a download of the type, saved as
// filename, for a body written afterwards as it is made (streamed).
func AttachHeader(w http.ResponseWriter, contentType, filename string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
}

// Execute writes the template to w as it goes (a file, not a response).
func (ts *Templates) Execute(w io.Writer, name string, data any) error {
	return ts.t[Zh].ExecuteTemplate(w, name, data)
}
