package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

//go:embed templates
var files embed.FS

// Workspace serves the bureaus' 报送工作台 (the package doc says what).
type Workspace struct {
	dir       atomic.Pointer[reporting.Directory]
	uploads   *upload.Handler
	grid      *reporting.Grid
	queue     *reporting.Queue
	validator *ingest.Validator
	tmpl      *shell.Templates
	// proxies are web.trusted_proxies: who may tell the client's address
	// (for the sign-in throttle and the review's audit).
	proxies  access.Proxies
	sessions *sessions
	// checked keeps what a 校验 leaves for later on disk.
	checked  *checkedDir
	throttle *access.Throttle
	now      func() time.Time
	log      *slog.Logger
}

// Reporter is a signed-in token's bureau (reporting.Bureau) with its scope
// in names, for the pages.
type Reporter struct {
	B          *reporting.Bureau
	Bureau     string
	Contact    string
	Hash       [32]byte
	Regions    []RegionName
	Indicators []IndicatorName // empty: every indicator
}

// RegionName and IndicatorName are a code or id with its Chinese name.
type RegionName struct{ Code, Name string }

// IndicatorName is an indicator id with its Chinese name and unit.
type IndicatorName struct{ ID, Name, Unit string }

// Reviewer says whether the token reviews held uploads (role: reviewer).
func (r *Reporter) Reviewer() bool { return r.B.IsReviewer() }

// Held says whether the bureau's uploads wait for a reviewer.
func (r *Reporter) Held() bool { return r.B.Review }

// Deps are what the workspace is built from.
type Deps struct {
	Tokens []config.UploadToken
	// Uploads is the upload API: the workspace sends files through it so
	// that a file from the browser is checked, scoped, limited, archived,
	// audited and stored exactly as POST /api/v1/uploads would.
	Uploads *upload.Handler
	// Grid gives the due grid and the template (nil: neither).
	Grid *reporting.Grid
	// Queue is the review queue (nil: no review).
	Queue     *reporting.Queue
	Validator *ingest.Validator
	// Dir is where a checked file waits for 提交 and an errors CSV for
	// its download (serve: uploads.review_dir/checked), for CheckedExpiry.
	Dir string
	// Web gives web.trusted_proxies.
	Web    config.Web
	Now    func() time.Time
	Logger *slog.Logger
}

// New builds the bureaus' workspace.
func New(d Deps) (*Workspace, error) {
	t, err := shell.Parse(files, funcs, d.Logger, "templates/*.html")
	if err != nil {
		return nil, err
	}
	checked, err := openCheckedDir(d.Dir, d.Now)
	if err != nil {
		return nil, err
	}
	w := &Workspace{uploads: d.Uploads, grid: d.Grid, queue: d.Queue, validator: d.Validator, tmpl: t, proxies: d.Web.Proxies(),
		sessions: newSessions(d.Now), checked: checked, throttle: access.NewThrottle(d.Now), now: d.Now, log: d.Logger}
	if err := w.SetTokens(d.Tokens); err != nil {
		return nil, err
	}
	return w, nil
}

// SetTokens replaces the token set; the sessions of a token no longer in it
// end (at once, and every request checks again).
func (w *Workspace) SetTokens(tokens []config.UploadToken) error {
	d, err := reporting.NewDirectory(tokens, w.validator.Catalog, w.validator.Regions)
	if err != nil {
		return err
	}
	w.dir.Store(d)
	w.sessions.prune(w.valid)
	return nil
}

// reporter returns the bureau of the token with this hash, or nil.
func (w *Workspace) reporter(hash [32]byte) *Reporter {
	b, ok := w.dir.Load().ByHash(hash)
	if !ok {
		return nil
	}
	r := &Reporter{B: b, Bureau: b.Name, Contact: b.Contact, Hash: hash}
	for _, code := range b.Regions {
		r.Regions = append(r.Regions, RegionName{code, w.regionName(code)})
	}
	for _, id := range b.Indicators {
		if ind, ok := w.validator.Catalog.Get(id); ok {
			r.Indicators = append(r.Indicators, IndicatorName{ind.ID, ind.NameZh, ind.Unit})
		}
	}
	return r
}

// valid says whether the token with this hash is still configured (what
// reporter needs to return a bureau).
func (w *Workspace) valid(hash [32]byte) bool {
	_, ok := w.dir.Load().ByHash(hash)
	return ok
}

// Register adds /bureau and /review to mux, as routes that check the
// bureau's token themselves (access.OwnAuth): a route without a session
// sends the browser to the sign-in form.
func (w *Workspace) Register(r access.Router) {
	mux := access.As(r, access.OwnAuth)
	h := func(f func(http.ResponseWriter, *http.Request) error) http.Handler {
		return w.tmpl.Handler(func(rw http.ResponseWriter, r *http.Request) error {
			rw.Header().Set("Cache-Control", "no-store")
			return f(rw, r)
		})
	}
	mux.Handle("GET /bureau", h(w.home))
	mux.Handle("POST /bureau/signin", h(w.signin))
	mux.Handle("POST /bureau/signout", h(w.form(w.signout)))
	mux.Handle("POST /bureau/check", h(w.form(w.check)))
	mux.Handle("POST /bureau/submit", h(w.form(w.submit)))
	mux.Handle("POST /bureau/entry/check", h(w.form(w.entryCheck)))
	mux.Handle("POST /bureau/entry/submit", h(w.form(w.entrySubmit)))
	mux.Handle("GET /bureau/errors/{id}", h(w.signed(w.errorsDownload)))
	mux.Handle("GET /bureau/template.xlsx", h(w.signed(w.template)))
	mux.Handle("GET /bureau/template.csv", h(w.signed(w.template)))
	mux.Handle("GET /review", h(w.signed(w.reviewPage)))
	mux.Handle("POST /review/{id}/approve", h(w.form(w.decide)))
	mux.Handle("POST /review/{id}/return", h(w.form(w.decide)))
}

// current is the request's live session and its token, or nil.
func (w *Workspace) current(r *http.Request) (*session, *Reporter) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	ss := w.sessions.get(c.Value, w.valid)
	if ss == nil {
		return nil, nil
	}
	rep := w.reporter(ss.hash)
	if rep == nil {
		return nil, nil
	}
	return ss, rep
}

type ctxKey struct{}

type signedInAs struct {
	ss  *session
	rep *Reporter
}

func from(r *http.Request) (*session, *Reporter) {
	v := r.Context().Value(ctxKey{}).(signedInAs)
	return v.ss, v.rep
}

// signed requires a session (else back to the sign-in form).
func (w *Workspace) signed(f func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(rw http.ResponseWriter, r *http.Request) error {
		ss, rep := w.current(r)
		if ss == nil {
			http.Redirect(rw, r, "/bureau", http.StatusSeeOther)
			return nil
		}
		return f(rw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, signedInAs{ss, rep})))
	}
}

// errForged is a POST from another site or without the session's CSRF token.
var errForged = &shell.Error{Code: http.StatusForbidden, Msg: "请求被拒绝:表单来自其他网站或已过期(跨站请求伪造防护)。请回到报送工作台重新操作。"}

// form is signed with a CSRF check: the same origin, and the session's
// token in the form's csrf field. Multipart forms are read up to the upload
// limit.
func (w *Workspace) form(f func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return w.signed(func(rw http.ResponseWriter, r *http.Request) error {
		if !sameOrigin(r) {
			return errForged
		}
		ss, _ := from(r)
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "multipart/form-data" {
			r.Body = http.MaxBytesReader(rw, r.Body, w.uploads.MaxBytes()+64<<10)
			if err := r.ParseMultipartForm(8 << 20); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return &shell.Error{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("文件太大:最多 %s。", sizeText(w.uploads.MaxBytes()))}
				}
				return shell.BadRequest("表单无法读取:%v", err)
			}
		} else {
			r.Body = http.MaxBytesReader(rw, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				return shell.BadRequest("表单无法读取:%v", err)
			}
		}
		if !tokenEqual(r.PostFormValue("csrf"), ss.csrf) {
			return errForged
		}
		return f(rw, r)
	})
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}

// bpage is what every workspace page gets.
type bpage struct {
	Title  string
	Rep    *Reporter
	CSRF   string
	Notice string
	Path   string
}

func (w *Workspace) bpage(r *http.Request, title string) bpage {
	ss, rep := from(r)
	p := bpage{Title: title, Rep: rep, CSRF: ss.csrf, Path: r.URL.Path}
	w.sessions.update(ss, func(s *session) { p.Notice, s.notice = s.notice, "" })
	return p
}

// home is the sign-in form, or the workspace of the signed-in bureau.
func (w *Workspace) home(rw http.ResponseWriter, r *http.Request) error {
	ss, rep := w.current(r)
	if ss == nil {
		return w.signinForm(rw, r, "", http.StatusOK)
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, signedInAs{ss, rep}))
	now := w.now()
	data := map[string]any{"Page": w.bpage(r, rep.Bureau+" · 报送工作台"), "Now": now, "MaxBytes": sizeText(w.uploads.MaxBytes())}
	if w.grid != nil {
		g, err := w.due(r.Context(), rep, now)
		if err != nil {
			return err
		}
		data["Grid"] = g
	}
	if w.queue != nil {
		data["Decisions"] = w.decisions(rep)
		if rep.Reviewer() {
			data["PendingReview"] = len(w.queue.List(rep.B.Scope.Regions))
		}
	}
	return w.tmpl.Render(rw, "bureau.html", data)
}

func (w *Workspace) signinForm(rw http.ResponseWriter, r *http.Request, msg string, code int) error {
	tok := randomID()
	setCookie(rw, r, signinCookie, tok, 30*time.Minute)
	return w.tmpl.RenderStatus(rw, code, "bureau_signin.html", map[string]any{
		"Page": bpage{Title: "报送工作台 · 登录", CSRF: tok, Path: r.URL.Path}, "Error": msg,
	})
}

// signin checks the token. A wrong one signs nobody in and costs time
// (access.Throttle: per token tried and client address, and per client
// address); the form is protected by a CSRF cookie and the Origin check.
func (w *Workspace) signin(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return shell.BadRequest("表单无法读取:%v", err)
	}
	c, err := r.Cookie(signinCookie)
	if !sameOrigin(r) || err != nil || !tokenEqual(r.PostFormValue("csrf"), c.Value) {
		return errForged
	}
	addr := w.proxies.Client(r)
	token := strings.TrimSpace(r.PostFormValue("token"))
	hash := sha256.Sum256([]byte(token))
	account := hex.EncodeToString(hash[:])
	if d := w.throttle.Wait(account, addr); d > 0 {
		w.log.Warn("bureau sign-in refused while locked out", "addr", addr, "wait", d.Round(time.Second))
		rw.Header().Set("Retry-After", access.RetryAfter(d))
		return w.signinForm(rw, r, fmt.Sprintf("尝试次数过多:请 %s后再试。", access.WaitText(d)), http.StatusTooManyRequests)
	}
	var rep *Reporter
	if token != "" {
		rep = w.reporter(hash)
	}
	if rep == nil {
		d := w.throttle.Fail(account, addr)
		w.log.Warn("bureau sign-in with an unknown token", "addr", addr, "lockout", d)
		msg := "令牌不正确,未登录。请核对贵单位收到的报送令牌(区分大小写)后重试。"
		if d > 0 {
			rw.Header().Set("Retry-After", access.RetryAfter(d))
			msg += fmt.Sprintf("因多次输错,请 %s后再试。", access.WaitText(d))
		}
		return w.signinForm(rw, r, msg, http.StatusUnauthorized)
	}
	w.throttle.OK(account, addr)
	w.checked.expire()
	ss := w.sessions.create(rep.Hash)
	setCookie(rw, r, sessionCookie, ss.id, SessionMax)
	setCookie(rw, r, signinCookie, "", -1)
	w.log.Info("bureau signed in", "bureau", rep.Bureau, "addr", addr)
	dest := "/bureau"
	if r.PostFormValue("next") == "/review" && rep.Reviewer() {
		dest = "/review"
	}
	http.Redirect(rw, r, dest, http.StatusSeeOther)
	return nil
}

func (w *Workspace) signout(rw http.ResponseWriter, r *http.Request) error {
	ss, rep := from(r)
	w.sessions.drop(ss.id)
	w.checked.remove(ss.checked)
	setCookie(rw, r, sessionCookie, "", -1)
	w.log.Info("bureau signed out", "bureau", rep.Bureau, "addr", w.proxies.Client(r))
	http.Redirect(rw, r, "/bureau?signed_out=1", http.StatusSeeOther)
	return nil
}

// template serves the bureau's template to fill (XLSX or CSV).
func (w *Workspace) template(rw http.ResponseWriter, r *http.Request) error {
	_, rep := from(r)
	if w.grid == nil {
		return shell.NotFound("模板暂不可用")
	}
	format := strings.TrimPrefix(filepath.Ext(r.URL.Path), ".")
	var b bytes.Buffer
	name, err := w.templateFile(r.Context(), rep, format, w.now(), &b)
	if err != nil {
		return err
	}
	ct := upload.TypeXLSX
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	return shell.Attach(rw, ct, name, b.Bytes())
}

// reviewPage lists the uploads held for the reviewer's regions.
func (w *Workspace) reviewPage(rw http.ResponseWriter, r *http.Request) error {
	_, rep := from(r)
	if !rep.Reviewer() {
		return &shell.Error{Code: http.StatusForbidden, Msg: "只有审核单位可以审核。贵单位的令牌用于报送数据:请回到报送工作台。"}
	}
	if w.queue == nil {
		return shell.NotFound("审核暂不可用")
	}
	ps, err := w.pending(r.Context(), rep)
	if err != nil {
		return err
	}
	return w.tmpl.Render(rw, "review.html", map[string]any{"Page": w.bpage(r, "审核 · 报送工作台"), "Pending": ps})
}

// decide approves or returns one held upload.
func (w *Workspace) decide(rw http.ResponseWriter, r *http.Request) error {
	ss, rep := from(r)
	if !rep.Reviewer() || w.queue == nil {
		return &shell.Error{Code: http.StatusForbidden, Msg: "只有审核单位可以审核。"}
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	act := action{id: r.PathValue("id"), reviewer: rep, comment: comment, addr: w.proxies.Client(r)}
	var err error
	var notice string
	if strings.HasSuffix(r.URL.Path, "/approve") {
		var stored bool
		stored, err = w.approve(r.Context(), act)
		notice = "已批准:数据已入库,参与评估。"
		if !stored {
			notice = "已批准(决定已保存),但数据暂未能写入:服务器会自动重试入库。"
		}
	} else {
		if comment == "" {
			return shell.BadRequest("退回时请填写退回意见,报送单位会在报送工作台看到。")
		}
		err = w.giveBack(r.Context(), act)
		notice = "已退回:报送单位会在报送工作台看到退回意见。"
	}
	if errors.Is(err, errReviewUnavailable) {
		rw.Header().Set("Retry-After", fmt.Sprint(upload.RetryAfter))
	}
	if err != nil {
		return err
	}
	w.sessions.update(ss, func(s *session) { s.notice = notice })
	http.Redirect(rw, r, "/review", http.StatusSeeOther)
	return nil
}
