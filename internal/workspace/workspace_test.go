package workspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

const qdToken = "qingdao-secret-token"

func TestMain(m *testing.M) { testenv.Main(m) }

type bureauEnv struct {
	t     *testing.T
	w     *Workspace
	mux   *http.ServeMux
	now   time.Time
	token config.UploadToken
	// audit is the upload API's audit log: one line per file the workspace
	// sent through it.
	audit string
	// xff, when set, is the X-Forwarded-For of sign-ins.
	xff string
	// dir is where checked files wait.
	dir string
	// st is the store the spool writes to (and the uploads' history).
	st *store.Store
}

// newBureau builds the workspace as serve does, on the real upload
// handler, whose accepted rows go through a spool to a fresh bucket of the
// shared InfluxDB; no due grid, no review queue.
func newBureau(t *testing.T, cfg config.Web) *bureauEnv { return newBureauMax(t, cfg, 1<<20) }

// newBureauMax is newBureau with uploads.max_bytes.
func newBureauMax(t *testing.T, cfg config.Web, maxBytes int64) *bureauEnv {
	dir := t.TempDir()
	e := &bureauEnv{t: t, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), audit: filepath.Join(dir, "audit.jsonl")}
	clock := func() time.Time { return e.now }
	logger := slog.New(slog.DiscardHandler)
	set := testenv.Plans(t)
	v := &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions}
	st := storetest.Open(t)
	sp, err := spool.Open(filepath.Join(dir, "spool"), st, spool.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	e.token = config.UploadToken{Bureau: "青岛市统计局", TokenSHA256: upload.HashToken(qdToken), Regions: []string{"370200"}}
	ucfg, err := upload.ParseConfig(&config.Uploads{MaxBytes: maxBytes, ArchiveDir: filepath.Join(dir, "uploads"), AuditLog: e.audit,
		Tokens: []config.UploadToken{e.token}})
	if err != nil {
		t.Fatal(err)
	}
	up, err := upload.NewHandler(ucfg, v, sp, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	up.Now = clock
	up.History, e.st = st, st // as serve: plausibility against the stored previous periods
	e.dir = filepath.Join(dir, "checked")
	e.w, err = New(Deps{Tokens: []config.UploadToken{e.token}, Uploads: up, Validator: v, Dir: e.dir, Web: cfg, Now: clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.mux = http.NewServeMux()
	e.w.Register(e.mux)
	return e
}

// sent are the files the upload API received from the workspace (its
// audit log: one outcome line each), in order.
func (e *bureauEnv) sent() []string {
	data, err := os.ReadFile(e.audit)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		e.t.Fatal(err)
	}
	var files []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct{ File, Result string }
		if l == "" {
			continue
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			e.t.Fatalf("audit line %q: %v", l, err)
		}
		if rec.Result != upload.ResultAccepting { // the second line of a stored upload
			files = append(files, rec.File)
		}
	}
	return files
}

func (e *bureauEnv) do(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, r)
	return rec
}

// signinForm returns the sign-in form's CSRF cookie.
func (e *bureauEnv) signinForm(addr string) *http.Cookie {
	r := httptest.NewRequest("GET", "/bureau", nil)
	r.RemoteAddr = addr
	rec := e.do(r)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "令牌") {
		e.t.Fatalf("GET /bureau signed out: %d\n%s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == signinCookie {
			if !strings.Contains(rec.Body.String(), `value="`+c.Value+`"`) {
				e.t.Fatal("the sign-in form does not carry its CSRF token")
			}
			return c
		}
	}
	e.t.Fatal("no sign-in cookie")
	return nil
}

func (e *bureauEnv) signin(addr, token string) *httptest.ResponseRecorder {
	c := e.signinForm(addr)
	r := httptest.NewRequest("POST", "/bureau/signin", strings.NewReader(url.Values{"token": {token}, "csrf": {c.Value}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://example.com")
	r.RemoteAddr = addr
	if e.xff != "" {
		r.Header.Set("X-Forwarded-For", e.xff)
	}
	r.AddCookie(c)
	return e.do(r)
}

func sessionOf(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && c.MaxAge >= 0 && c.Value != "" {
			return c
		}
	}
	return nil
}

func (e *bureauEnv) page(c *http.Cookie) (*httptest.ResponseRecorder, string) {
	r := httptest.NewRequest("GET", "/bureau", nil)
	r.AddCookie(c)
	rec := e.do(r)
	body := rec.Body.String()
	csrf := ""
	if i := strings.Index(body, `name="csrf" value="`); i >= 0 {
		csrf = body[i+len(`name="csrf" value="`):]
		csrf = csrf[:strings.Index(csrf, `"`)]
	}
	return rec, csrf
}

func TestBureauSignInAndOut(t *testing.T) {
	e := newBureau(t, config.Web{})
	rec := e.signin("192.0.2.1:1000", qdToken)
	c := sessionOf(rec)
	if rec.Code != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in: %d %v", rec.Code, rec.Header())
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.MaxAge <= 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, expiring (not Secure over plain HTTP)", c)
	}
	page, csrf := e.page(c)
	for _, want := range []string{"青岛市统计局", "青岛市(370200)", "退出登录", "报送情况", "/bureau/template.xlsx"} {
		if !strings.Contains(page.Body.String(), want) {
			t.Errorf("workspace lacks %q", want)
		}
	}
	if page.Header().Get("Content-Security-Policy") != shell.CSP {
		t.Error("workspace without the CSP")
	}
	// Sign out: the session ends.
	r := httptest.NewRequest("POST", "/bureau/signout", strings.NewReader("csrf="+csrf))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(c)
	if rec := e.do(r); rec.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d %s", rec.Code, rec.Body)
	}
	if page, _ := e.page(c); strings.Contains(page.Body.String(), "退出登录") {
		t.Error("still signed in after signing out")
	}
	// Under TLS (behind a proxy that says so) the cookie is Secure.
	cf := e.signinForm("192.0.2.1:1000")
	r = httptest.NewRequest("POST", "/bureau/signin", strings.NewReader(url.Values{"token": {qdToken}, "csrf": {cf.Value}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.AddCookie(cf)
	if c := sessionOf(e.do(r)); c == nil || !c.Secure {
		t.Errorf("session cookie under TLS: %+v, want Secure", c)
	}
}

func TestBureauSessionEnds(t *testing.T) {
	e := newBureau(t, config.Web{})
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	// Removing the token from the config ends its sessions.
	if err := e.w.SetTokens(nil); err != nil {
		t.Fatal(err)
	}
	if page, _ := e.page(c); strings.Contains(page.Body.String(), "退出登录") {
		t.Error("a removed token's session is still signed in")
	}
	e.w.SetTokens([]config.UploadToken{e.token})
	if page, _ := e.page(c); strings.Contains(page.Body.String(), "退出登录") {
		t.Error("an ended session came back with the token")
	}
	// Idle sessions expire.
	c = sessionOf(e.signin("192.0.2.1:1000", qdToken))
	e.now = e.now.Add(SessionIdle + time.Minute)
	if page, _ := e.page(c); strings.Contains(page.Body.String(), "退出登录") {
		t.Error("an idle session did not expire")
	}
}

// A wrong token signs nobody in. The same wrong token tried again from one
// address is locked out for longer each time, but the right token from that
// address is not; many different wrong tokens from one address lock the
// address out, even for the right token, and not other addresses.
func TestBureauWrongTokenSlowedDown(t *testing.T) {
	e := newBureau(t, config.Web{})
	const addr = "198.51.100.9:4000"
	for i := 1; i <= access.PairFree; i++ {
		rec := e.signin(addr, "guess")
		if rec.Code != http.StatusUnauthorized || sessionOf(rec) != nil || !strings.Contains(rec.Body.String(), "令牌不正确") {
			t.Fatalf("wrong token %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := e.signin(addr, "guess")
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("third wrong token: %d Retry-After %q, want a 2 s lockout", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := e.signin(addr, "guess"); rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "后再试") {
		t.Fatalf("the same wrong token during its lockout: %d, want 429", rec.Code)
	}
	if rec := e.signin(addr, qdToken); sessionOf(rec) == nil {
		t.Fatalf("the right token was locked out with the wrong one: %d", rec.Code)
	}
	// 3 failures so far; AddrFree in all cost nothing more, the next one
	// locks the address.
	for i := 4; i <= access.AddrFree; i++ {
		if rec := e.signin(addr, fmt.Sprintf("guess-%d", i)); rec.Code != http.StatusUnauthorized || rec.Header().Get("Retry-After") != "" {
			t.Fatalf("wrong token %d: %d Retry-After %q", i, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	if rec := e.signin(addr, "guess-last"); rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("wrong token %d: Retry-After %q, want the address locked 2 s", access.AddrFree+1, rec.Header().Get("Retry-After"))
	}
	rec = e.signin(addr, qdToken)
	if rec.Code != http.StatusTooManyRequests || sessionOf(rec) != nil {
		t.Fatalf("right token from the locked address: %d, want 429 and no session", rec.Code)
	}
	if rec := e.signin("203.0.113.5:1", qdToken); sessionOf(rec) == nil {
		t.Error("another address was locked out too")
	}
	e.now = e.now.Add(3 * time.Second)
	if rec := e.signin(addr, "guess-again"); rec.Header().Get("Retry-After") != "4" {
		t.Errorf("next wrong token: Retry-After %q, want 4 (doubling)", rec.Header().Get("Retry-After"))
	}
	e.now = e.now.Add(5 * time.Second)
	if rec := e.signin(addr, qdToken); sessionOf(rec) == nil {
		t.Errorf("right token after the lockout: %d", rec.Code)
	}
}

// Behind a trusted proxy the lockout follows the forwarded client address:
// an attacker's guesses lock out the attacker, not the bureaus behind the
// same proxy; from an untrusted address X-Forwarded-For is ignored, so
// changing it buys no more guesses.
func TestBureauLockoutBehindProxy(t *testing.T) {
	e := newBureau(t, config.Web{TrustedProxies: []string{"10.0.0.0/8"}})
	const proxy = "10.0.0.1:40000"
	signinVia := func(remote, xff, token string) *httptest.ResponseRecorder {
		e.xff = xff
		defer func() { e.xff = "" }()
		return e.signin(remote, token)
	}
	for i := 0; i <= access.AddrFree; i++ {
		signinVia(proxy, "198.51.100.66", fmt.Sprintf("guess-%d", i))
	}
	if rec := signinVia(proxy, "198.51.100.66", qdToken); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the attacker behind the proxy: %d, want 429", rec.Code)
	}
	if rec := signinVia(proxy, "192.0.2.10, 198.51.100.7", qdToken); sessionOf(rec) == nil {
		t.Fatalf("a bureau behind the same proxy was locked out: %d", rec.Code)
	}
	// Untrusted: the connecting address counts, whatever it forwards.
	for i := 0; i <= access.AddrFree; i++ {
		signinVia("192.0.2.99:5000", fmt.Sprintf("203.0.113.%d", i), fmt.Sprintf("guess-%d", i))
	}
	if rec := signinVia("192.0.2.99:5000", "203.0.113.200", qdToken); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("a spoofed X-Forwarded-For from an untrusted address bought more guesses: %d", rec.Code)
	}
}

func multipartBody(t *testing.T, fields map[string]string, file string, data []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile("file", file)
		fw.Write(data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

// Every form refuses a forged POST: without the session's CSRF token, with
// a wrong one, or from another origin; the sign-in form too.
func TestBureauCSRF(t *testing.T) {
	e := newBureau(t, config.Web{})
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	_, csrf := e.page(c)
	file := []byte("指标,地区,时期,数值\n食品抽检合格率,青岛市,2024,97.6\n")
	for name, tc := range map[string]struct{ csrf, origin string }{
		"no token":     {"", ""},
		"wrong token":  {"forged", ""},
		"other origin": {csrf, "https://evil.example"},
		"null origin":  {csrf, "null"},
	} {
		body, ct := multipartBody(t, map[string]string{"csrf": tc.csrf}, "a.csv", file)
		r := httptest.NewRequest("POST", "/bureau/submit", body)
		r.Header.Set("Content-Type", ct)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		r.AddCookie(c)
		if rec := e.do(r); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "跨站请求伪造") {
			t.Errorf("%s: %d, want 403", name, rec.Code)
		}
	}
	if sent := e.sent(); len(sent) != 0 {
		t.Fatalf("a forged POST reached the upload: %v", sent)
	}
	body, ct := multipartBody(t, map[string]string{"csrf": csrf}, "a.csv", file)
	r := httptest.NewRequest("POST", "/bureau/submit", body)
	r.Header.Set("Content-Type", ct)
	r.Header.Set("Origin", "http://example.com")
	r.AddCookie(c)
	if rec := e.do(r); rec.Code != 200 || !strings.Contains(rec.Body.String(), "已提交并入库") || len(e.sent()) != 1 {
		t.Fatalf("genuine submit: %d sent %v\n%s", rec.Code, e.sent(), rec.Body)
	}
	// Sign-in without the form's cookie (login CSRF).
	r = httptest.NewRequest("POST", "/bureau/signin", strings.NewReader("token="+qdToken+"&csrf=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := e.do(r); rec.Code != http.StatusForbidden || sessionOf(rec) != nil {
		t.Errorf("forged sign-in: %d", rec.Code)
	}
}

// 校验 shows every row, each bad cell marked with row, column, value and
// what was expected (the API's errors), and keeps the file for 提交 only
// when it is clean.
func TestBureauCheckMarksBadCells(t *testing.T) {
	e := newBureau(t, config.Web{})
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	_, csrf := e.page(c)
	file := []byte("指标,地区,时期,数值\n食品抽检合格率,青岛市,2023,97.1\n食品抽检合格率,青岛市,2024,985\n")
	body, ct := multipartBody(t, map[string]string{"csrf": csrf}, "a.csv", file)
	r := httptest.NewRequest("POST", "/bureau/check", body)
	r.Header.Set("Content-Type", ct)
	r.AddCookie(c)
	rec := e.do(r)
	out := rec.Body.String()
	for _, want := range []string{"1 处错误", "整个文件都没有保存", "第 3 行", "数值超出该指标的合理范围", `class="bad-cell"`, "97.1", "0 至 100(百分数)"} {
		if !strings.Contains(out, want) {
			t.Errorf("check page lacks %q", want)
		}
	}
	if strings.Contains(out, `name="checked"`) {
		t.Error("a file with errors can be submitted from its check page")
	}
	// A clean file: 提交 sends the same file again.
	body, ct = multipartBody(t, map[string]string{"csrf": csrf}, "b.csv", file[:strings.LastIndex(string(file[:len(file)-1]), "\n")+1])
	r = httptest.NewRequest("POST", "/bureau/check", body)
	r.Header.Set("Content-Type", ct)
	r.AddCookie(c)
	out = e.do(r).Body.String()
	i := strings.Index(out, `name="checked" value="`)
	if i < 0 || !strings.Contains(out, "校验通过") {
		t.Fatalf("clean check:\n%s", out)
	}
	id := out[i+len(`name="checked" value="`):]
	id = id[:strings.Index(id, `"`)]
	body, ct = multipartBody(t, map[string]string{"csrf": csrf, "checked": id}, "", nil)
	r = httptest.NewRequest("POST", "/bureau/submit", body)
	r.Header.Set("Content-Type", ct)
	r.AddCookie(c)
	if rec := e.do(r); !strings.Contains(rec.Body.String(), "已提交并入库") || !slices.Equal(e.sent(), []string{"a.csv", "b.csv", "b.csv"}) {
		t.Fatalf("submit of the checked file: %d sent %v\n%s", rec.Code, e.sent(), rec.Body)
	}
}
