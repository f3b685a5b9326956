package upload

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/xuri/excelize/v2"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	qingdaoToken = "qd-secret-token"
	foodToken    = "food-only-token"
	countyToken  = "jiaozhou-token"
	bureau       = "青岛市统计局"
)

var now = time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC)

func validator(t testing.TB) *ingest.Validator {
	t.Helper()
	cat, regs := testenv.Targets(t)
	return &ingest.Validator{Catalog: cat, Regions: regs, Now: func() time.Time { return now }}
}

func testConfig(dir string, maxBytes int64) Config {
	return Config{
		MaxBytes:   maxBytes,
		ArchiveDir: filepath.Join(dir, "archive"),
		AuditLog:   filepath.Join(dir, "audit", "audit.jsonl"),
		Tokens: []Token{
			{Bureau: bureau, TokenSHA256: HashToken(qingdaoToken), Regions: []string{"370200"}},
			{Bureau: "山东省市场监管局", TokenSHA256: HashToken(foodToken), Regions: []string{"山东省"}, Indicators: []string{"food_sampling_pass_rate"}},
			{Bureau: "胶州市统计局", TokenSHA256: HashToken(countyToken), Regions: []string{"胶州市"}},
		},
	}
}

type env struct {
	srv    *httptest.Server
	h      *Handler
	cfg    Config
	influx *testenv.Influx
	bucket string
	spool  *spool.Spool
}

// newEnv serves the handler over the spool over a fresh bucket of the real
// InfluxDB.
func newEnv(t *testing.T, maxBytes int64) *env {
	t.Helper()
	srv := testenv.SharedInflux(t)
	return newEnvOn(t, srv, srv.NewBucket(t), t.TempDir(), maxBytes)
}

// newEnvOn serves the handler over a spool in spoolDir over bucket.
func newEnvOn(t *testing.T, srv *testenv.Influx, bucket, spoolDir string, maxBytes int64) *env {
	t.Helper()
	st := store.Open(store.Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: bucket, Timeout: 30 * time.Second})
	t.Cleanup(st.Close)
	sp, err := spool.Open(spoolDir, st, spool.Options{AcceptWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	cfg := testConfig(t.TempDir(), maxBytes)
	h, err := NewHandler(cfg, validator(t), sp, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Now = func() time.Time { return now }
	t.Cleanup(func() { h.Close() })
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &env{srv: ts, h: h, cfg: cfg, influx: srv, bucket: bucket, spool: sp}
}

// post sends body with a content type and token, and decodes the answer.
func (e *env) post(t *testing.T, query, contentType, token string, body []byte, hdr ...string) (*Response, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+Path+query, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", resp.Status, raw)
	}
	out.Status = resp.StatusCode
	return &out, resp.Header
}

// stored returns the current values held for the region, by indicator/period.
func (e *env) stored(t *testing.T, regionCode string) map[string]float64 {
	t.Helper()
	db, _, _ := strings.Cut(e.bucket, "/")
	out := map[string]float64{}
	for _, s := range e.influx.QueryDB(t, db, fmt.Sprintf(`SELECT "value" FROM "observation" WHERE "region" = '%s' GROUP BY "indicator"`, regionCode)) {
		for _, v := range s.Values {
			out[s.Tags["indicator"]+"/"+v[0].(string)[:4]] = v[1].(float64)
		}
	}
	return out
}

// checkStored checks that InfluxDB holds exactly want for the region.
func (e *env) checkStored(t *testing.T, regionCode string, want map[string]float64) {
	t.Helper()
	if got := e.stored(t, regionCode); !maps.Equal(got, want) {
		t.Errorf("InfluxDB holds %v, want %v", got, want)
	}
}

// wantErr is an error an upload's answer must name; an empty column or
// message, or expected false, is not checked.
type wantErr struct {
	row                    int
	column, value, message string // message: a part of it
	expected               bool   // an Expected is given
}

func (w wantErr) check(t *testing.T, got *ingest.Error) {
	t.Helper()
	if got.Row != w.row || w.column != "" && got.Column != w.column || got.Value != w.value ||
		!strings.Contains(got.Message, w.message) || w.expected && got.Expected == "" {
		t.Fatalf("error %+v", got)
	}
}

const goodCSV = "指标,地区,时期,数值,单位\n" +
	"食品安全抽检合格率,青岛市,2023,98.6,%\n" +
	"food_sampling_pass_rate,370200,2024,98.9%,\n" +
	"drug_sampling_pass_rate,青岛,2024,99.1,\n"

// TestUploadCounty: a county bureau (its token scoped by the county's name)
// uploads by county code and short name and the figures are stored under the
// county's code; an ambiguous county name is refused naming both candidates.
func TestUploadCounty(t *testing.T) {
	e := newEnv(t, DefaultMaxBytes)
	csv := "指标,地区,时期,数值\n食品安全抽检合格率,370281,2023,97.5\n食品安全抽检合格率,胶州,2024,97.8\n"
	resp, _ := e.post(t, "", "text/csv", countyToken, []byte(csv))
	if resp.Status != 200 || resp.Accepted != 2 || resp.New != 2 {
		t.Fatalf("%+v", resp)
	}
	e.checkStored(t, "370281", map[string]float64{"food_sampling_pass_rate/2023": 97.5, "food_sampling_pass_rate/2024": 97.8})
	resp, _ = e.post(t, "", "text/csv", countyToken, []byte("指标,地区,时期,数值\n食品安全抽检合格率,朝阳区,2024,97\n"))
	if resp.Status != 422 || len(resp.Errors) != 1 {
		t.Fatalf("%+v", resp)
	}
	wantErr{row: 2, column: "地区", value: "朝阳区", message: "可指 110105 北京市朝阳区、220104 吉林省长春市朝阳区", expected: true}.check(t, resp.Errors[0])
}

func TestUploadEndToEnd(t *testing.T) {
	e := newEnv(t, DefaultMaxBytes)
	var requests int

	t.Run("accepted and stored", func(t *testing.T) {
		requests++
		resp, _ := e.post(t, "", "text/csv; charset=utf-8", qingdaoToken, []byte(goodCSV), "Content-Disposition", `attachment; filename="青岛 2024.csv"`)
		if resp.Status != 200 || resp.Accepted != 3 || resp.New != 3 || resp.Pending || resp.DryRun {
			t.Fatalf("%+v", resp)
		}
		if resp.File != "青岛 2024.csv" {
			t.Errorf("file = %q", resp.File)
		}
		e.checkStored(t, "370200", map[string]float64{"food_sampling_pass_rate/2023": 98.6, "food_sampling_pass_rate/2024": 98.9, "drug_sampling_pass_rate/2024": 99.1})
		// The audit line and the archived original.
		sum := sha256.Sum256([]byte(goodCSV))
		hexSum := hex.EncodeToString(sum[:])
		if resp.SHA256 != hexSum {
			t.Errorf("sha256 = %s, want %s", resp.SHA256, hexSum)
		}
		if a := archivedOriginal(t, e.cfg.ArchiveDir, hexSum, ".csv"); a.Day != "2026-05-20" || string(a.Data) != goodCSV {
			t.Fatalf("archive: %s %q", a.Day, a.Data)
		}
		lines := auditLines(t, e.cfg.AuditLog)
		if len(lines) != 2 || lines[0].Result != ResultAccepting || lines[0].Rows != 3 || lines[0].SHA256 != hexSum || lines[0].Bureau != bureau {
			t.Fatalf("audit lines %+v, want the accepting line (3 rows) before the outcome", lines)
		}
		last := lines[1]
		if last.Bureau != bureau || last.SHA256 != hexSum || last.Size != int64(len(goodCSV)) || last.Result != ResultAccepted ||
			last.Status != 200 || last.File != "青岛 2024.csv" || last.Summary == nil || last.Summary.New != 3 || !last.Time.Equal(now) || last.RemoteAddr == "" {
			t.Fatalf("audit line %+v", last)
		}
	})

	t.Run("same file again is unchanged, a changed value is a revision", func(t *testing.T) {
		requests += 2
		resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte(goodCSV))
		if resp.Status != 200 || resp.Unchanged != 3 || resp.New != 0 {
			t.Fatalf("%+v", resp)
		}
		resp, _ = e.post(t, "", "text/csv", qingdaoToken, []byte(strings.Replace(goodCSV, "99.1", "99.3", 1)))
		if resp.Status != 200 || resp.Revised != 1 || resp.Unchanged != 2 {
			t.Fatalf("%+v", resp)
		}
		if got := e.stored(t, "370200")["drug_sampling_pass_rate/2024"]; got != 99.3 {
			t.Fatalf("revised value %v", got)
		}
	})

	// Rejected uploads: the answer names the bad cells and nothing is
	// written.
	for _, tc := range []struct {
		name, csv string
		status    int
		errs      []wantErr
	}{
		{"one bad cell: 422 naming it, nothing written",
			"indicator,region,period,value\n" +
				"food_sampling_pass_rate,370200,2021,97.5\n" +
				"food_sampling_pass_rate,370200,2022,985\n" +
				"drug_sampling_pass_rate,370200,2022,98\n",
			422, []wantErr{{row: 3, column: "value", value: "985", message: "outside the valid range", expected: true}}},
		{"out of scope region: 403 naming every cell, nothing written",
			"指标,地区,时期,数值\n" +
				"food_sampling_pass_rate,370200,2020,97\n" +
				"food_sampling_pass_rate,山东省,2020,97\n" +
				"food_sampling_pass_rate,济南,2020,96\n",
			403, []wantErr{{row: 3, column: "地区", value: "山东省", message: "370000"}, {row: 4, value: "济南"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests++
			before := e.stored(t, "370200")
			resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte(tc.csv))
			if resp.Status != tc.status || len(resp.Errors) != len(tc.errs) {
				t.Fatalf("%+v", resp)
			}
			for i, got := range resp.Errors {
				tc.errs[i].check(t, got)
			}
			if after := e.stored(t, "370200"); len(after) != len(before) {
				t.Fatalf("rows written from a rejected upload: %v", after)
			}
			if len(e.stored(t, "370000")) != 0 {
				t.Fatal("province rows written")
			}
		})
	}

	t.Run("indicator scope", func(t *testing.T) {
		requests += 2
		resp, _ := e.post(t, "", "text/csv", foodToken, []byte("indicator,region,period,value\ndrug_sampling_pass_rate,370000,2020,97\n"))
		if resp.Status != 403 || len(resp.Errors) != 1 || resp.Errors[0].Column != "indicator" {
			t.Fatalf("%+v", resp)
		}
		resp, _ = e.post(t, "", "text/csv", foodToken, []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97\n"))
		if resp.Status != 200 || resp.New != 1 {
			t.Fatalf("%+v", resp)
		}
	})

	t.Run("dry run writes nothing", func(t *testing.T) {
		requests++
		in := "indicator,region,period,value\nfood_sampling_pass_rate,370200,2019,96.5\n"
		resp, _ := e.post(t, "?dry_run=true", "text/csv", qingdaoToken, []byte(in))
		if resp.Status != 200 || !resp.DryRun || resp.Accepted != 1 {
			t.Fatalf("%+v", resp)
		}
		if _, ok := e.stored(t, "370200")["food_sampling_pass_rate/2019"]; ok {
			t.Fatal("dry run wrote")
		}
	})

	t.Run("401", func(t *testing.T) {
		requests += 3
		for _, tok := range []string{"", "wrong"} {
			resp, h := e.post(t, "", "text/csv", tok, []byte(goodCSV))
			if resp.Status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("token %q: %+v %v", tok, resp, h)
			}
		}
		resp, _ := e.post(t, "", "text/csv", "", []byte(goodCSV), "Authorization", "Basic "+qingdaoToken)
		if resp.Status != 401 {
			t.Fatalf("%+v", resp)
		}
	})

	t.Run("415 and 405", func(t *testing.T) {
		requests++
		resp, _ := e.post(t, "", "application/json", qingdaoToken, []byte(`{}`))
		if resp.Status != 415 || !strings.Contains(resp.Error, "text/csv") {
			t.Fatalf("%+v", resp)
		}
		r, err := http.Get(e.srv.URL + Path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 405 || r.Header.Get("Allow") != "POST" {
			t.Fatalf("GET: %s %v", r.Status, r.Header)
		}
	})

	t.Run("xlsx body", func(t *testing.T) {
		requests++
		data := xlsxFile(t, [][]any{{"指标", "地区", "时期", "数值"}, {"food_sampling_pass_rate", "370200", "2018", 95.5}})
		resp, _ := e.post(t, "", TypeXLSX, qingdaoToken, data)
		if resp.Status != 200 || resp.New != 1 {
			t.Fatalf("%+v", resp)
		}
		if got := e.stored(t, "370200")["food_sampling_pass_rate/2018"]; got != 95.5 {
			t.Fatalf("stored %v", got)
		}
		sum := sha256.Sum256(data)
		if a := archivedOriginal(t, e.cfg.ArchiveDir, hex.EncodeToString(sum[:]), ".xlsx"); !bytes.Equal(a.Data, data) {
			t.Fatalf("archived %d bytes, want %d", len(a.Data), len(data))
		}
	})

	t.Run("multipart form", func(t *testing.T) {
		requests += 2
		body, ct := multipartBody(t, "季报.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2017,94.2\n"))
		resp, _ := e.post(t, "", ct, qingdaoToken, body)
		if resp.Status != 200 || resp.New != 1 || resp.File != "季报.csv" {
			t.Fatalf("%+v", resp)
		}
		body, ct = multipartBody(t, "", nil)
		if resp, _ := e.post(t, "", ct, qingdaoToken, body); resp.Status != 400 {
			t.Fatalf("no file field: %+v", resp)
		}
	})

	t.Run("client", func(t *testing.T) {
		requests += 2
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2016,abc\nfood_sampling_pass_rate,370200,2030,90\n"), 0o644)
		var stdout, stderr bytes.Buffer
		code := RunClient(context.Background(), []string{"--server", e.srv.URL, bad}, func(k string) string {
			if k == EnvToken {
				return qingdaoToken
			}
			return ""
		}, &stdout, &stderr)
		if code != ExitRejected {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], bad+":2:value: not a number") || !strings.HasPrefix(lines[1], bad+":3:period: period is in the future") ||
			!strings.Contains(lines[2], "rejected (422") {
			t.Fatalf("stderr:\n%s", stderr.String())
		}
		good := filepath.Join(dir, "good.csv")
		os.WriteFile(good, []byte(goodCSV), 0o644)
		stdout.Reset()
		stderr.Reset()
		code = RunClient(context.Background(), []string{"--server", e.srv.URL, "--token", qingdaoToken, good}, nil, &stdout, &stderr)
		if code != ExitAccepted || stdout.String() != good+": accepted: 3 rows (0 new, 1 revised, 2 unchanged)\n" {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
		}
	})

	outcomes := 0
	for _, l := range auditLines(t, e.cfg.AuditLog) {
		if l.Result != ResultAccepting {
			outcomes++
		}
	}
	if outcomes != requests {
		t.Errorf("%d audit lines of outcomes for %d uploads", outcomes, requests)
	}
	if v := testutil.ToFloat64(e.h.total.WithLabelValues(bureau, ResultForbidden)); v != 1 {
		t.Errorf("forbidden uploads counted %v", v)
	}
	if v := testutil.ToFloat64(e.h.total.WithLabelValues("", ResultUnauthorized)); v != 3 {
		t.Errorf("unauthorized uploads counted %v", v)
	}
}

// One file per upload: a second file part is a 400, not ignored; a header
// alone is refused.
func TestUploadShape(t *testing.T) {
	e := newEnv(t, 1<<20)
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, name := range []string{"a.csv", "b.csv"} {
		fw, _ := w.CreateFormFile("file", name)
		fw.Write([]byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2017,94.2\n"))
	}
	w.Close()
	resp, _ := e.post(t, "", w.FormDataContentType(), qingdaoToken, b.Bytes())
	if resp.Status != 400 || !strings.Contains(resp.Error, "more than one file") {
		t.Fatalf("two files: %+v", resp)
	}
	if got := e.stored(t, "370200"); len(got) != 0 {
		t.Fatalf("stored %v from a refused upload", got)
	}
	resp, _ = e.post(t, "", "text/csv", qingdaoToken, []byte("indicator,region,period,value\n"))
	if resp.Status != 422 || len(resp.Errors) != 1 || resp.Errors[0].Message != "no data rows" {
		t.Fatalf("header only: %+v", resp)
	}
}

// An upload goes through the whole pipeline: a reported non-pass rate gives
// the pass rate (derived when read), not stored.
func TestUploadDerives(t *testing.T) {
	e := newEnv(t, 1<<20)
	resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte("indicator,region,period,value\nfood_sampling_fail_rate,370200,2024,2.4\n"))
	if resp.Status != 200 || resp.Accepted != 1 || resp.New != 1 {
		t.Fatalf("%+v", resp)
	}
	got := e.stored(t, "370200")
	if _, ok := got["food_sampling_pass_rate/2024"]; ok || got["food_sampling_fail_rate/2024"] != 2.4 {
		t.Fatalf("stored %v, want 2.4 alone (the pass rate is computed when read, internal/derive)", got)
	}
}

func TestTooLarge(t *testing.T) {
	e := newEnv(t, 200)
	big := goodCSV + strings.Repeat("food_sampling_pass_rate,370200,2023,98.6\n", 10)
	resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte(big))
	if resp.Status != 413 || !strings.Contains(resp.Error, "200 bytes") {
		t.Fatalf("%+v", resp)
	}
	body, ct := multipartBody(t, "x.csv", []byte(big))
	if resp, _ := e.post(t, "", ct, qingdaoToken, body); resp.Status != 413 {
		t.Fatalf("multipart: %+v", resp)
	}
	if len(e.stored(t, "370200")) != 0 {
		t.Fatal("wrote from an oversized upload")
	}
	lines := auditLines(t, e.cfg.AuditLog)
	if len(lines) != 2 || lines[0].Status != 413 || lines[0].Result != ResultRejected {
		t.Fatalf("audit %+v", lines)
	}
}

func auditLines(t *testing.T, path string) []auditRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []auditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r auditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func xlsxFile(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartBody is a form with a "note" field and, when name is not empty,
// a "file" field.
func multipartBody(t testing.TB, name string, content []byte) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("note", "季度报送")
	if name != "" {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// memSink records accepted batches (no InfluxDB).
type memSink struct {
	mu      sync.Mutex
	batches [][]observation.Observation
}

func (m *memSink) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, batch)
	return observation.Result{Summary: observation.Summary{Accepted: len(batch), New: len(batch)}}, nil
}

func FuzzUpload(f *testing.F) {
	f.Add(false, []byte(goodCSV))
	f.Add(false, []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,97\n"))
	f.Add(false, []byte("indicator,region,period,value\n\"a,b\",x,2020-Q1,1,482\n"))
	f.Add(true, []byte("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nindicator,region,period,value\nfood_sampling_pass_rate,370200,2020,97\n\r\n--B--\r\n"))
	f.Add(true, []byte("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\nPK\x03\x04\r\n--B--\r\n"))
	f.Add(true, []byte("--B\r\n\r\n--B--"))
	v := validator(f)
	dir := f.TempDir()
	ms := &memSink{}
	h, err := NewHandler(testConfig(dir, 4096), v, ms, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close()
	f.Fuzz(func(t *testing.T, multi bool, body []byte) {
		ct := "text/csv"
		if multi {
			ct = "multipart/form-data; boundary=B"
		}
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+qingdaoToken)
		w := httptest.NewRecorder()
		ms.mu.Lock()
		before := len(ms.batches)
		ms.mu.Unlock()
		h.ServeHTTP(w, req)
		var resp Response
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%d: not JSON: %q", w.Code, w.Body.String())
		}
		ms.mu.Lock()
		after := len(ms.batches)
		var last []observation.Observation
		if after > 0 {
			last = ms.batches[after-1]
		}
		ms.mu.Unlock()
		switch w.Code {
		case 200:
			if after != before+1 && resp.Accepted > 0 {
				t.Fatalf("200 without a batch accepted")
			}
			for _, o := range last {
				if o.Region != "370200" {
					t.Fatalf("accepted a row for region %s outside the token's scope", o.Region)
				}
				ind, _ := v.Catalog.Get(o.Indicator)
				if ind == nil || !ind.InRange(o.Value) {
					t.Fatalf("accepted an invalid row %+v", o)
				}
			}
		case 400, 403, 413, 415, 422:
			if after != before {
				t.Fatalf("%d but a batch was accepted", w.Code)
			}
			if (w.Code == 403 || w.Code == 422) && len(resp.Errors) == 0 {
				t.Fatalf("%d without errors", w.Code)
			}
		default:
			t.Fatalf("unexpected status %d: %s", w.Code, w.Body.String())
		}
	})
}

// TestBusy: a large file that finds every slot of the gate taken is
// answered 503 with Retry-After, nothing read or written; a small CSV
// passes meanwhile, and the large file once a slot is free.
func TestBusy(t *testing.T) {
	e := newEnv(t, 1<<20)
	e.h.v.Gate = ingest.NewGate(1)
	book := xlsxFile(t, [][]any{{"indicator", "region", "period", "value"}, {"food_sampling_pass_rate", "370200", "2023", 98.6}})
	release, err := e.h.v.Gate.TryEnter(".xlsx", 1) // another large file being read
	if err != nil {
		t.Fatal(err)
	}
	resp, hdr := e.post(t, "", TypeXLSX, qingdaoToken, book)
	if resp.Status != http.StatusServiceUnavailable || hdr.Get("Retry-After") != fmt.Sprint(BusyRetryAfter) ||
		!strings.Contains(resp.Error, "请 5 秒后重试") || resp.Accepted != 0 {
		t.Fatalf("busy: %+v, Retry-After %q", resp, hdr.Get("Retry-After"))
	}
	bigCSV := goodCSV + strings.Repeat("\n", ingest.LargeCSV)
	if resp, _ := e.post(t, "?dry_run=true", "text/csv", qingdaoToken, []byte(bigCSV)); resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("large CSV: %+v", resp)
	}
	if resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte(goodCSV)); resp.Status != http.StatusOK {
		t.Fatalf("small CSV while busy: %+v", resp)
	}
	release()
	if resp, _ := e.post(t, "", TypeXLSX, qingdaoToken, book); resp.Status != http.StatusOK {
		t.Fatalf("after release: %+v", resp)
	}
	lines := auditLines(t, e.cfg.AuditLog)
	if lines[0].Status != http.StatusServiceUnavailable || lines[0].Result != ResultError {
		t.Fatalf("audit %+v", lines[0])
	}
}

// archivedOriginal is the original with the SHA-256 and kind in the upload
// archive under dir, read back by ReadArchive, which must find no damage.
func archivedOriginal(t *testing.T, dir, sum, ext string) *Archived {
	t.Helper()
	var found *Archived
	damage, err := ReadArchive(dir, DefaultMaxBytes, func(a *Archived) error {
		if a.SHA256 == sum && a.Ext == ext {
			found = a
		}
		return nil
	})
	if err != nil || len(damage) > 0 {
		t.Fatalf("reading the archive: %v, damage %v", err, damage)
	}
	if found == nil {
		t.Fatalf("%s%s not in the archive", sum, ext)
	}
	return found
}
