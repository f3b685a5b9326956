package cli

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// payloads are what an attacker puts where a region code, an id or a date
// is expected. None of them is a legitimate value of any parameter.
var payloads = []string{
	"${r.region}", `${"x"}`, `" or true or "`, `") or (r) => true or ("`, `\"`, `\`, `"`,
	`") |> drop(columns: ["region"]) |> yield(name: "x`, "$", "${",
	"370200\n", "370200\") or (r) => true or (\"", "370200 ", "\n\") |> yield()\n//", "\x00", "\xff\xfe",
	"青岛市${r.region}", "\u202e370200", "2025-13-45", "0001-01-01T00:00:00Z${", "../../etc/passwd",
	strings.Repeat("${r.region}", 1000),
}

// route is a registered pattern of `qualitymon serve` and what it reads
// from a request: the path to ask (path parameters filled with legitimate
// values), the legitimate query, the path parameters and the query
// parameters it reads (each to be sent every payload).
type route struct {
	pattern string
	path    string
	query   url.Values
	// pathParams: name → the legitimate value in path (replaced by payloads).
	pathParams map[string]string
	params     []string
	// ok judges an answer to a payload in parameter p (nil: 400 for a query
	// parameter, 404 for a path parameter).
	ok func(p string, code int, body string) bool
	// body, when set, is POSTed (an upload).
	body []byte
	// noParams: the route reads no parameter of a visitor (a payload sent in
	// an unknown parameter must not make it fail).
	noParams bool
}

const qingdaoToken = "qingdao-inject-test-0123456789"

// routes is every route serve registers and its parameters. The test
// checks this table against the registrations found in the source, so a
// new route cannot be forgotten here.
func serveRoutes() []route {
	moment := []string{"at", "known_at"}
	below500 := func(_ string, code int, _ string) bool { return code < 500 }
	return []route{
		// ?plan= on the overview is text found in the plans' names (in
		// memory): printable text is searched (no plan matches), the rest 400.
		{pattern: "GET /{$}", path: "/", params: append([]string{"region", "page", "size", "plan"}, moment...),
			ok: func(p string, code int, body string) bool {
				return code == 400 && strings.Contains(body, "参数无效") && strings.Contains(body, p+"=") ||
					p == "plan" && code == 200 && !strings.Contains(body, `<th scope="row"><a href="/plans/`)
			}},
		{pattern: "GET /plans/{plan}", path: "/plans/qingdao-2023", pathParams: map[string]string{"plan": "qingdao-2023"},
			params: append([]string{"status", "agency", "indicator", "region", "sort", "dir", "page", "size"}, moment...)},
		{pattern: "GET /plans/{plan}/targets/{target}", path: "/plans/qingdao-2023/targets/food-sampling-pass-rate",
			pathParams: map[string]string{"plan": "qingdao-2023", "target": "food-sampling-pass-rate"}, params: append([]string{"region"}, moment...)},
		{pattern: "GET /indicators/{indicator}", path: "/indicators/food_sampling_pass_rate",
			pathParams: map[string]string{"indicator": "food_sampling_pass_rate"}, params: append([]string{"region", "page", "size"}, moment...)},
		{pattern: "GET /export/status.csv", path: "/export/status.csv", query: url.Values{"plan": {"qingdao-2023"}}, params: append([]string{"plan", "region"}, moment...)},
		{pattern: "GET /export/status.xlsx", path: "/export/status.xlsx", query: url.Values{"plan": {"qingdao-2023"}}, params: append([]string{"plan", "region"}, moment...)},
		{pattern: "GET /export/figures.csv", path: "/export/figures.csv",
			query:  url.Values{"plan": {"qingdao-2023"}, "target": {"food-sampling-pass-rate"}, "region": {"370200"}},
			params: append([]string{"plan", "target", "region"}, moment...)},
		{pattern: "GET /report/{plan}", path: "/report/qingdao-2023", pathParams: map[string]string{"plan": "qingdao-2023"},
			params: append([]string{"format"}, moment...)},
		{pattern: "GET /changes", path: "/changes", query: url.Values{"from": {"2025-01-01"}}, params: []string{"from", "to", "page"}},
		{pattern: "GET /api/v1/status", path: "/api/v1/status", query: url.Values{"plan": {"qingdao-2023"}}, params: append([]string{"plan"}, moment...)},
		{pattern: "GET /api/v1/completeness", path: "/api/v1/completeness", query: url.Values{"region": {"370200"}},
			params: []string{"region", "bureau", "plan", "limit", "cursor"}},
		// An upload (dry run) reads dry_run; the file name is only a label.
		{pattern: upload.Path, path: upload.Path, query: url.Values{"dry_run": {"true"}, "filename": {"q.csv"}},
			params: []string{"dry_run", "filename"}, body: []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2024,98.7\n"),
			ok: func(p string, code int, body string) bool {
				if p == "filename" {
					return code == 200 && strings.Contains(body, `"dry_run": true`) || code == 400
				}
				return code == 400
			}},
		// Routes that read no parameter of a visitor's (the workspace's
		// forms are POSTed with a CSRF token; the review id is a path
		// value looked up in the queue, never in a query).
		{pattern: "GET /metrics", path: "/metrics", noParams: true},
		{pattern: "GET /healthz", path: "/healthz", noParams: true},
		{pattern: "GET /readyz", path: "/readyz", noParams: true},
		{pattern: "GET /favicon.ico", path: "/favicon.ico", noParams: true},
		{pattern: "GET /static/", path: "/static/site.css", noParams: true},
		{pattern: "GET /bureau", path: "/bureau", noParams: true},
		{pattern: "POST /bureau/signin", path: "/bureau/signin", noParams: true},
		{pattern: "POST /bureau/signout", path: "/bureau/signout", noParams: true},
		{pattern: "POST /bureau/check", path: "/bureau/check", noParams: true},
		{pattern: "POST /bureau/submit", path: "/bureau/submit", noParams: true},
		{pattern: "POST /bureau/entry/check", path: "/bureau/entry/check", noParams: true},
		{pattern: "POST /bureau/entry/submit", path: "/bureau/entry/submit", noParams: true},
		{pattern: "GET /bureau/errors/{id}", path: "/bureau/errors/x", pathParams: map[string]string{"id": "x"}, noParams: true, ok: below500},
		{pattern: "GET /bureau/template.xlsx", path: "/bureau/template.xlsx", noParams: true},
		{pattern: "GET /bureau/template.csv", path: "/bureau/template.csv", noParams: true},
		{pattern: "GET /bureau/errors/{id}", path: "/bureau/errors/x", pathParams: map[string]string{"id": "x"}, noParams: true, ok: below500},
		{pattern: "GET /review", path: "/review", noParams: true},
		{pattern: "POST /review/{id}/approve", path: "/review/x/approve", pathParams: map[string]string{"id": "x"}, noParams: true, ok: below500},
		{pattern: "POST /review/{id}/return", path: "/review/x/return", pathParams: map[string]string{"id": "x"}, noParams: true, ok: below500},
	}
}

// TestInjectionEveryParameter sends every payload in every parameter of
// every route of a real `qualitymon serve` over the real InfluxDB, whose
// bucket holds the sample figures of five regions. Each answer must be a
// 400 (参数无效) for a query parameter or a 404 for a path value — never a
// 5xx, never a 200 carrying figures the parameter does not select. On the
// old code /export/figures.csv?region=${r.region} answered 200 with the
// figures of every region.
func TestInjectionEveryParameter(t *testing.T) {
	table := serveRoutes()
	checkRouteTable(t, table)

	env, _ := influxEnv(t)
	if r := run(t, env, "import", "../../sample/observations.csv"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	addr := testenv.FreeAddr(t)
	dir := t.TempDir()
	cfg := write(t, "qualitymon.yaml", serveConfig(dir, fmt.Sprintf("listen: %s\nevaluation: {schedule: \"@every 1h\"}\n", addr), qingdaoToken))
	serveMain(t, env, cfg)
	base := "http://" + addr
	waitFor(t, "readyz", func() bool { c, _ := testenv.Get(base + "/readyz"); return c == 200 })
	cl := &http.Client{Timeout: 30 * time.Second}

	// The legitimate request selects one region's figures: the control
	// that shows the bucket holds the others.
	figuresRoute := table[slices.IndexFunc(table, func(r route) bool { return r.pattern == "GET /export/figures.csv" })]
	code, body := ask(t, cl, base, figuresRoute, "", "")
	if code != 200 || !strings.Contains(body, ",370200,") || strings.Contains(body, ",370000,") {
		t.Fatalf("figures.csv of 370200: %d %.300s", code, body)
	}

	for _, rt := range table {
		for _, p := range payloads {
			if rt.noParams {
				if code, body := ask(t, cl, base, rt, "x", p); code >= 500 {
					t.Errorf("%s with x=%.40q: %d %.200s", rt.pattern, p, code, body)
				}
			}
			for _, name := range rt.params {
				code, body := ask(t, cl, base, rt, name, p)
				good := code == 400 && strings.Contains(body, "参数无效") && strings.Contains(body, name+"=")
				if rt.ok != nil {
					good = rt.ok(name, code, body)
				}
				if !good {
					t.Errorf("%s %s=%.40q: %d %.300s", rt.pattern, name, p, code, body)
				}
			}
			for name := range rt.pathParams {
				code, body := ask(t, cl, base, rt, "{"+name+"}", p)
				good := code == 404 || code == 400
				if rt.ok != nil {
					good = rt.ok(name, code, body)
				}
				if !good {
					t.Errorf("%s {%s}=%.40q: %d %.300s", rt.pattern, name, p, code, body)
				}
			}
		}
	}
}

// ask sends rt's request with parameter name set to v: a query parameter,
// or "{name}" for a path value (no name: the legitimate request).
func ask(t *testing.T, cl *http.Client, base string, rt route, name, v string) (int, string) {
	t.Helper()
	path, q := rt.path, url.Values{}
	for k, vs := range rt.query {
		q[k] = slices.Clone(vs)
	}
	if strings.HasPrefix(name, "{") {
		legit := rt.pathParams[strings.Trim(name, "{}")]
		path = strings.Replace(path, "/"+legit, "/"+url.PathEscape(v), 1)
	} else if name != "" {
		q.Set(name, v)
	}
	method, _, _ := strings.Cut(rt.pattern, " ")
	if !strings.HasPrefix(rt.pattern, "GET ") && !strings.HasPrefix(rt.pattern, "POST ") {
		method = "POST"
	}
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(rt.body))
	if err != nil {
		t.Fatal(err)
	}
	if rt.body != nil {
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+qingdaoToken)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkRouteTable compares the table with every route a serve built from
// the same kind of config registers on its Mux (server.Mux.Routes), so
// that a new route fails this test until its parameters are listed here.
func checkRouteTable(t *testing.T, table []route) {
	t.Helper()
	sv, _ := builtServe(t, authConfig(t, ""))
	registered := slices.Collect(maps.Keys(sv.srv.Mux.Routes()))
	var listed []string
	for _, r := range table {
		listed = append(listed, r.pattern)
		if !slices.Contains(registered, r.pattern) {
			t.Errorf("route %q of the table is not registered (renamed? update the table)", r.pattern)
		}
	}
	for _, p := range registered {
		if !slices.Contains(listed, p) {
			t.Errorf("route %q is registered but not in the injection test's table: list its parameters in serveRoutes()", p)
		}
	}
	if len(registered) < 20 {
		t.Fatalf("found only %d registered routes: %v", len(registered), registered)
	}
}
