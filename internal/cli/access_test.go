package cli

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/access"
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// builtServe builds serve from a config text (on the real InfluxDB) and
// serves its handler, guard included, on a real HTTP server.
func builtServe(t *testing.T, cfgText string) (*served, *httptest.Server) {
	t.Helper()
	env, _ := influxEnv(t)
	path := write(t, "qualitymon.yaml", cfgText)
	g := &globals{Config: path}
	e := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	chk, err := g.loadChecked(e)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := buildServe(chk, e, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sv.Close)
	hs := httptest.NewServer(sv.srv.Handler())
	t.Cleanup(hs.Close)
	return sv, hs
}

func authConfig(t *testing.T, extra string) string {
	dir := t.TempDir()
	h, err := access.HashPassword("reader-pass")
	if err != nil {
		t.Fatal(err)
	}
	return serveConfig(dir, "", "qingdao-secret") + fmt.Sprintf(`web:
  auth:
    users:
      - {name: reader, password_bcrypt: "%s"}
%s`, h, extra)
}

// The allow-list: the only routes that answer without credentials. The
// probes and the static assets are public; the workspace's sign-in page and
// its form are how a bureau signs in with its token.
var anonymousOK = []string{"GET /healthz", "GET /readyz", "GET /static/", "GET /favicon.ico", "GET /bureau", "POST /bureau/signin"}

// requestFor makes a request that reaches a route pattern: its method
// (POST when it has none), its wildcards filled in.
func requestFor(base, pattern string) *http.Request {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodPost, pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "x")
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "site.css"
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("csrf=x")
	}
	req, _ := http.NewRequest(method, base+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// With web.auth users, every route serve registers — enumerated from its
// Mux, so that a route added later is tried too — answers 401 (or, for the
// bureaus' workspace, sends the browser to its sign-in) to a request without
// credentials, but for the allow-list; /metrics too unless
// web.auth.metrics_public. With the right user the protected routes answer.
func TestServeRoutesNeedAuth(t *testing.T) {
	sv, hs := builtServe(t, authConfig(t, ""))
	routes := sv.srv.Mux.Routes()
	for _, must := range []string{"GET /api/v1/status", "GET /api/v1/completeness", "GET /metrics", "GET /{$}", "GET /export/figures.csv",
		"GET /plans/{plan}", upload.Path, "GET /review", "POST /bureau/submit"} {
		if _, ok := routes[must]; !ok {
			t.Fatalf("route %q not registered (routes: %v)", must, routes)
		}
	}
	client := hs.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(req *http.Request) *http.Response {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for _, p := range slices.Sorted(maps.Keys(routes)) {
		resp := do(requestFor(hs.URL, p))
		switch {
		case slices.Contains(anonymousOK, p):
			if resp.StatusCode == http.StatusUnauthorized {
				t.Errorf("%s (allow-listed): 401", p)
			}
		case routes[p] == access.OwnAuth:
			// The workspace sends the browser to its sign-in; the upload
			// API wants the bearer token.
			if loc := resp.Header.Get("Location"); !(resp.StatusCode == http.StatusSeeOther && loc == "/bureau") && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s without a token or session: %d %q, want 401 or 303 to /bureau", p, resp.StatusCode, loc)
			}
		default:
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("%s (%s) without credentials: %d, want 401 with a basic challenge", p, routes[p], resp.StatusCode)
			}
			req := requestFor(hs.URL, p)
			req.SetBasicAuth("reader", "reader-pass")
			if c := do(req).StatusCode; c == http.StatusUnauthorized || c == http.StatusTooManyRequests {
				t.Errorf("%s as reader: %d", p, c)
			}
		}
		if routes[p] == access.Public && !slices.Contains(anonymousOK, p) {
			t.Errorf("%s is public but not in the allow-list", p)
		}
	}
	req := requestFor(hs.URL, "GET /api/v1/status")
	req.SetBasicAuth("reader", "wrong")
	if c := do(req).StatusCode; c != http.StatusUnauthorized {
		t.Errorf("/api/v1/status with a wrong password: %d, want 401", c)
	}
	// A path no route matches is protected too: it tells nothing.
	if c := do(requestFor(hs.URL, "GET /no/such/page")).StatusCode; c != http.StatusUnauthorized {
		t.Errorf("an unknown path without credentials: %d, want 401", c)
	}
	// The upload API keeps its own token.
	req = requestFor(hs.URL, upload.Path)
	req.Header.Set("Authorization", "Bearer qingdao-secret")
	req.Header.Set("Content-Type", "text/csv")
	req.Body = io.NopCloser(bytes.NewReader([]byte("indicator,region,period,value\n")))
	if c := do(req).StatusCode; c == http.StatusUnauthorized {
		t.Errorf("an upload with the bureau's token: 401")
	}
}

// web.auth.metrics_public: true opens /metrics, and nothing else.
func TestServeMetricsPublic(t *testing.T) {
	_, hs := builtServe(t, authConfig(t, "    metrics_public: true\n"))
	for path, want := range map[string]int{"/metrics": 200, "/api/v1/status": 401, "/": 401} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s with metrics_public: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// qualitymon password hash prints a bcrypt hash of the first line of
// standard input, which check config accepts as password_bcrypt; the old
// password_sha256 is refused with how to make one.
func TestPasswordHash(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"password", "hash"}, Env{Stdin: strings.NewReader("zhi jian chu\n"), Stdout: &out, Stderr: &errb})
	h := strings.TrimSpace(out.String())
	if code != 0 || !strings.HasPrefix(h, "$2a$10$") {
		t.Fatalf("password hash: %d %q %q", code, out.String(), errb.String())
	}
	users, err := access.NewUsers([]config.WebUser{{Name: "zhijianchu", PasswordBcrypt: h}}, time.Now)
	if err != nil || !users.Check("zhijianchu", "zhi jian chu") {
		t.Fatalf("the hash does not check the password: %v", err)
	}
	good := write(t, "good.yaml", fmt.Sprintf("web:\n  auth:\n    users:\n      - {name: zhijianchu, password_bcrypt: %q}\n", h))
	if r := run(t, nil, "check", "config", "-c", good); r.code != 0 {
		t.Fatalf("check config with the hash: %d %s", r.code, r.stderr)
	}
	old := write(t, "old.yaml", "web:\n  auth:\n    users:\n      - {name: zhijianchu, password_sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8}\n")
	if r := run(t, nil, "check", "config", "-c", old); r.code != 1 || !strings.Contains(r.stderr, "qualitymon password hash") {
		t.Fatalf("check config with a SHA-256: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "password", "hash"); r.code != 1 || !strings.Contains(r.stderr, "no password on standard input") {
		t.Fatalf("password hash without input: %d %s", r.code, r.stderr)
	}
}

// The config's timezone decides when a period has begun, for import as for
// every command: at 2026-12-06T17:00Z (01:00 on 7 December in Beijing) the
// daily AQI of 2026-12-07 is stored with the default timezone
// (Asia/Shanghai) and refused as in the future with timezone: UTC.
func TestImportTimezone(t *testing.T) {
	env, st := influxEnv(t)
	data := write(t, "aqi.csv", "indicator,region,period,value\naqi_daily,370200,2026-12-07,42\n")
	at := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	importAt := func(cfgText string) result {
		var out, errb bytes.Buffer
		code := Main([]string{"import", "-c", write(t, "qualitymon.yaml", cfgText), data},
			Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return at }})
		return result{code, out.String(), errb.String()}
	}
	r := importAt("timezone: UTC\n")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "period is in the future") {
		t.Fatalf("timezone UTC: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := count(t, st); n != 0 {
		t.Fatalf("%d rows stored after the refusal", n)
	}
	if r := importAt("listen: 127.0.0.1:9737 # timezone: Asia/Shanghai by default\n"); r.code != 0 {
		t.Fatalf("default timezone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := count(t, st); n != 1 {
		t.Fatalf("%d rows stored, want 1", n)
	}
}
