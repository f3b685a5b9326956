package faults

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The bureaus: each posts 5-row CSVs of aqi_daily for prefectures of its
// own, so that every row of a test is a key of its own and "stored exactly
// once" can be counted. Upload seq of a bureau reports one day for one of
// its groups of five prefectures: ten uploads a day, so that a test spans
// few days (and few InfluxDB shards).
const (
	nBureaus  = 6
	nGroups   = 10
	nRows     = 5
	postPause = 40 * time.Millisecond
	// bound of every wait: generous, never a timing assertion.
	bound = 2 * time.Minute
)

type bureau struct {
	name, token string
	regions     []string // nGroups*nRows prefecture codes
	with        string   // more of its token entry ("review: required", "role: reviewer")
}

func newBureaus(t *testing.T) []bureau {
	t.Helper()
	_, regs := testenv.Targets(t)
	var prefs []string
	for _, r := range regs.All() {
		if r.Level == region.Prefecture {
			prefs = append(prefs, r.Code)
		}
	}
	per := nGroups * nRows
	if len(prefs) < nBureaus*per {
		t.Fatalf("%d prefectures in the region table, want %d", len(prefs), nBureaus*per)
	}
	bs := make([]bureau, nBureaus)
	for i := range bs {
		bs[i] = bureau{
			name:    fmt.Sprintf("故障测试局%d", i),
			token:   fmt.Sprintf("fault-test-bureau-%d-0123456789abcdef", i),
			regions: prefs[i*per : (i+1)*per],
		}
	}
	return bs
}

// sent is one upload and what it was answered.
type sent struct {
	bureau, seq int
	body        []byte
	rows        map[string]float64 // "region/2016-01-01T00:00:00Z" → value
	status      int                // 0: no answer (connection error)
	ans         answer
	err         error
	phase       int32     // the test's phase when the answer came
	start, end  time.Time // when it was sent and answered
}

// answer is the JSON body of POST /api/v1/uploads.
type answer struct {
	Accepted  int    `json:"accepted"`
	New       int    `json:"new"`
	Revised   int    `json:"revised"`
	Unchanged int    `json:"unchanged"`
	Pending   bool   `json:"pending"`
	Error     string `json:"error"`
}

func (s *sent) acked() bool { return s.status == http.StatusOK }

func (s *sent) String() string {
	return fmt.Sprintf("bureau %d upload %d: status %d %+v err %v", s.bureau, s.seq, s.status, s.ans, s.err)
}

func makeUpload(bs []bureau, b, seq int, base time.Time) *sent {
	g := seq % nGroups
	day := base.AddDate(0, 0, seq/nGroups)
	s := &sent{bureau: b, seq: seq, rows: map[string]float64{}}
	var buf bytes.Buffer
	buf.WriteString("indicator,region,period,value\n")
	for r := 0; r < nRows; r++ {
		reg := bs[b].regions[g*nRows+r]
		v := float64((b*7919+seq*31+r*17)%5000) / 10
		fmt.Fprintf(&buf, "aqi_daily,%s,%s,%s\n", reg, day.Format("2006-01-02"), strconv.FormatFloat(v, 'f', -1, 64))
		s.rows[reg+"/"+day.Format(time.RFC3339)] = v
	}
	s.body = buf.Bytes()
	return s
}

// post sends one upload. An answer whose body did not arrive whole is no
// answer (status 0): the bureau does not know it was accepted.
func post(cl *http.Client, u, token string, body []byte) (int, answer, error) {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, answer{}, err
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := cl.Do(req)
	if err != nil {
		return 0, answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, answer{}, err
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil || (a.Error == "" && resp.StatusCode != http.StatusOK) {
		a.Error = strings.TrimSpace(string(raw))
	}
	return resp.StatusCode, a, nil
}

// posters are the bureaus posting concurrently, one client each, until
// stopped.
type posters struct {
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	phase atomic.Int32
	mu    sync.Mutex
	all   []*sent
}

func startPosters(t *testing.T, u string, bs []bureau, base time.Time) *posters {
	p := &posters{stop: make(chan struct{})}
	for b := range bs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			cl := &http.Client{Timeout: time.Minute}
			for seq := 0; ; seq++ {
				select {
				case <-p.stop:
					return
				default:
				}
				s := makeUpload(bs, b, seq, base)
				s.start = time.Now()
				s.status, s.ans, s.err = post(cl, u, bs[b].token, s.body)
				s.end = time.Now()
				s.phase = p.phase.Load()
				p.mu.Lock()
				p.all = append(p.all, s)
				p.mu.Unlock()
				select {
				case <-p.stop:
					return
				case <-time.After(postPause):
				}
			}
		}()
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// Stop stops the posters, waits for their last answers and returns every
// upload sent.
func (p *posters) Stop() []*sent {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
	return p.sent()
}

func (p *posters) sent() []*sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sent(nil), p.all...)
}

func (p *posters) count(f func(*sent) bool) int {
	n := 0
	for _, s := range p.sent() {
		if f(s) {
			n++
		}
	}
	return n
}

// waitCount waits until at least n uploads satisfy f.
func (p *posters) waitCount(t *testing.T, proc *testenv.Process, what string, n int, f func(*sent) bool) {
	t.Helper()
	testenv.WaitFor(t, proc, bound, fmt.Sprintf("%d %s", n, what), func() (bool, string) {
		c := p.count(f)
		return c >= n, fmt.Sprintf("%d of %d uploads sent", c, len(p.sent()))
	})
}

// influxProxy passes everything between qualitymon and InfluxDB through,
// except that it can hold one write after InfluxDB has stored it, before
// qualitymon hears so.
type influxProxy struct {
	URL   string
	rp    *httputil.ReverseProxy
	mu    sync.Mutex
	armed *heldWrite
	holds []*heldWrite
}

// heldWrite is a write InfluxDB stored whose answer the proxy holds.
type heldWrite struct {
	landed  chan struct{} // closed once InfluxDB answered 204
	release chan struct{}
	once    sync.Once
	pass    bool // on release: pass InfluxDB's answer on, else drop the connection
	points  int
}

// Release ends the hold: pass InfluxDB's answer on to qualitymon, or drop
// the connection so that qualitymon never learns the write was stored.
func (h *heldWrite) Release(pass bool) {
	h.once.Do(func() {
		h.pass = pass
		close(h.release)
	})
}

func newInfluxProxy(t *testing.T, target string) *influxProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &influxProxy{rp: httputil.NewSingleHostReverseProxy(u)}
	p.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, "influx proxy: "+err.Error(), http.StatusBadGateway)
	}
	srv := httptest.NewServer(p)
	p.URL = srv.URL
	t.Cleanup(func() {
		p.mu.Lock()
		for _, h := range p.holds {
			h.Release(false)
		}
		p.mu.Unlock()
		srv.Close()
	})
	return p
}

// HoldNextWrite arms a hold of the next write InfluxDB stores.
func (p *influxProxy) HoldNextWrite() *heldWrite {
	h := &heldWrite{landed: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.armed = h
	p.holds = append(p.holds, h)
	p.mu.Unlock()
	return h
}

func (p *influxProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/api/v2/write" {
		p.mu.Lock()
		h := p.armed
		p.armed = nil
		p.mu.Unlock()
		if h != nil {
			p.hold(w, r, h)
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

func (p *influxProxy) hold(w http.ResponseWriter, r *http.Request, h *heldWrite) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	points := countPoints(body, r.Header.Get("Content-Encoding"))
	rec := httptest.NewRecorder()
	p.rp.ServeHTTP(rec, r)
	if rec.Code != http.StatusNoContent || points == 0 {
		// Not stored, or not the spool's: hold the next one instead.
		p.mu.Lock()
		if p.armed == nil {
			p.armed = h
		}
		p.mu.Unlock()
		copyRecorded(w, rec)
		return
	}
	h.points = points
	close(h.landed)
	select {
	case <-h.release:
	case <-r.Context().Done(): // qualitymon is gone
		return
	}
	if !h.pass {
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	copyRecorded(w, rec)
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// countPoints counts the points of the observation measurement (the
// spool's writes; the evaluation history is written too).
func countPoints(body []byte, encoding string) int {
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return 0
		}
		if body, err = io.ReadAll(zr); err != nil {
			return 0
		}
	}
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "observation,") {
			n++
		}
	}
	return n
}

func (h *heldWrite) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.landed:
	case <-time.After(bound):
		t.Fatalf("no write reached InfluxDB within %s", bound)
	}
}

// serve is `qualitymon serve` built from this tree, with its config, spool,
// archive, audit log and review queue in a temporary directory, talking to
// InfluxDB through the proxy.
type serve struct {
	bin, dir, cfg, addr string
	env                 []string
	proc                *testenv.Process
	starts              int
}

func newServe(t *testing.T, influx *testenv.Influx, influxURL string, bs []bureau) *serve {
	t.Helper()
	return newServeAt(t, influx, influxURL, bs, "", "")
}

// newServeAt is newServe with the review queue and the audit log where the
// test says ("": in serve's directory), e.g. on a tmpfs that fills up.
func newServeAt(t *testing.T, influx *testenv.Influx, influxURL string, bs []bureau, reviewDir, auditLog string) *serve {
	t.Helper()
	dir := t.TempDir()
	s := &serve{bin: testenv.BuildQualitymon(t, dir), dir: dir, cfg: filepath.Join(dir, "qualitymon.yaml"), addr: testenv.FreeAddr(t)}
	if reviewDir == "" {
		reviewDir = filepath.Join(dir, "review")
	}
	if auditLog == "" {
		auditLog = s.auditLog()
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "influx: {url: %q, token: \"\", org: %q, bucket: %q}\n", influxURL, influx.Org, influx.Bucket)
	fmt.Fprintf(&cfg, "listen: %s\nevaluation: {schedule: \"@every 5m\"}\nspool_dir: %s\n", s.addr, filepath.Join(dir, "spool"))
	fmt.Fprintf(&cfg, "uploads:\n  archive_dir: %s\n  audit_log: %s\n  review_dir: %s\n  tokens:\n",
		filepath.Join(dir, "archive"), auditLog, reviewDir)
	for _, b := range bs {
		with := ""
		if b.with != "" {
			with = ", " + b.with
		}
		fmt.Fprintf(&cfg, "    - {bureau: %s, token_sha256: %s, regions: [\"%s\"]%s}\n", b.name, upload.HashToken(b.token), strings.Join(b.regions, `", "`), with)
	}
	if err := os.WriteFile(s.cfg, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// The variables win over the config: set them all, to the proxy.
	s.env = []string{
		"QUALITYMON_INFLUX_URL=" + influxURL,
		"QUALITYMON_INFLUX_BUCKET=" + influx.Bucket,
		"QUALITYMON_INFLUX_ORG=" + influx.Org,
		"QUALITYMON_INFLUX_TOKEN=" + influx.Token,
	}
	return s
}

// start starts serve and waits until /readyz answers 200.
func (s *serve) start(t *testing.T) {
	t.Helper()
	s.starts++
	s.proc = testenv.StartProcess(t, s.dir, fmt.Sprintf("qualitymon-serve-%d", s.starts), s.env, s.bin, "serve", "--config", s.cfg)
	s.waitReadyz(t, http.StatusOK)
}

func (s *serve) auditLog() string { return filepath.Join(s.dir, "audit.jsonl") }

// uploadURL is the upload API's address. The fault tests' bureaus send
// figures that jump from day to day (random AQI): they confirm the
// plausibility warnings, as a bureau that checked them would.
func (s *serve) uploadURL() string { return "http://" + s.addr + upload.Path + "?confirm_warnings=1" }

func (s *serve) waitReadyz(t *testing.T, code int) {
	t.Helper()
	testenv.WaitFor(t, s.proc, bound, fmt.Sprintf("/readyz answering %d", code), func() (bool, string) {
		got, body := testenv.Get("http://" + s.addr + "/readyz")
		return got == code, fmt.Sprintf("%d %s", got, strings.TrimSpace(body))
	})
}

// waitDrained waits until the spool holds nothing not yet in InfluxDB.
func (s *serve) waitDrained(t *testing.T) {
	t.Helper()
	testenv.WaitFor(t, s.proc, bound, "qualitymon_spool_pending_samples 0", func() (bool, string) {
		code, body := testenv.Get("http://" + s.addr + "/metrics")
		if code != http.StatusOK {
			return false, fmt.Sprintf("/metrics: %d %s", code, body)
		}
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "qualitymon_spool_pending_samples "); ok {
				return v == "0", line
			}
		}
		return false, "no qualitymon_spool_pending_samples in /metrics"
	})
}

// storedState is what InfluxDB holds of aqi_daily: "region/time" → value,
// the number of points (more than keys: a key stored twice), the points
// whose revision is not 0 and the points of observation_revision.
type storedState struct {
	values     map[string]float64
	points     int
	revised    []string
	revHistory int
}

// wholeOrNone checks that InfluxDB holds all of s's rows or none (an
// upload is never stored in part), adding those it holds to into.
func (st storedState) wholeOrNone(t *testing.T, s *sent, into map[string]float64) {
	t.Helper()
	n := 0
	for k, v := range s.rows {
		if _, ok := st.values[k]; ok {
			n++
			into[k] = v
		}
	}
	if n != 0 && n != len(s.rows) {
		t.Errorf("%s: %d of its %d rows stored, want all or none", s, n, len(s.rows))
	}
}

func stored(t *testing.T, influx *testenv.Influx) storedState {
	t.Helper()
	st := storedState{values: map[string]float64{}}
	for _, s := range influx.Query(t, `SELECT "value", "revision" FROM "observation" WHERE "indicator" = 'aqi_daily' GROUP BY *`) {
		vi, ri := column(s.Columns, "value"), column(s.Columns, "revision")
		for _, v := range s.Values {
			key := s.Tags["region"] + "/" + fmt.Sprint(v[0])
			st.points++
			st.values[key] = num(v, vi)
			if rev := num(v, ri); rev != 0 {
				st.revised = append(st.revised, fmt.Sprintf("%s revision %v", key, rev))
			}
		}
	}
	for _, s := range influx.Query(t, `SELECT "value" FROM "observation_revision" WHERE "indicator" = 'aqi_daily' GROUP BY *`) {
		st.revHistory += len(s.Values)
	}
	return st
}

func column(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}

func num(row []any, i int) float64 {
	if i < 0 || i >= len(row) {
		return -1
	}
	switch x := row[i].(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return -1
}

// checkExactlyOnce checks that InfluxDB holds exactly want, each key once,
// and no revision of any.
func checkExactlyOnce(t *testing.T, st storedState, want map[string]float64, what string) {
	t.Helper()
	var missing, wrong, extra []string
	for k, v := range want {
		got, ok := st.values[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case got != v:
			wrong = append(wrong, fmt.Sprintf("%s = %v, sent %v", k, got, v))
		}
	}
	for k := range st.values {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(wrong)+len(extra) > 0 || st.points != len(st.values) || len(st.revised) > 0 || st.revHistory > 0 {
		t.Errorf("%s: InfluxDB holds %d points for %d keys, want %d keys once each:\n  missing %d %s\n  wrong value %d %s\n  %s %d %s\n  revision ≠ 0: %d %s\n  observation_revision points: %d (want 0)",
			what, st.points, len(st.values), len(want), len(missing), first(missing), len(wrong), first(wrong),
			"stored but not sent/acknowledged", len(extra), first(extra), len(st.revised), first(st.revised), st.revHistory)
	}
}

func first(s []string) string {
	sort.Strings(s)
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + ", …"
	}
	return strings.Join(s, ", ")
}

// checkAnswer checks the summary of an acknowledged upload of nRows fresh
// keys: stored (not pending), all accepted, new or unchanged (a write
// InfluxDB stored unanswered and qualitymon retried), none a revision.
// A pending answer says every row was accepted and counts nothing else yet.
func checkAnswer(t *testing.T, s *sent) {
	t.Helper()
	a := s.ans
	if a.Pending && a != (answer{Accepted: nRows, Pending: true}) || !a.Pending && (a.Accepted != nRows || a.Revised != 0 || a.New+a.Unchanged != nRows) {
		t.Errorf("%s: want %d accepted, new or unchanged, none revised (or pending: all accepted, nothing else counted yet)", s, nRows)
	}
}

// startStack starts what both kill tests run: a private InfluxDB, the proxy
// in front of it, the bureaus, a ready `qualitymon serve` talking to InfluxDB
// through the proxy, and the bureaus posting uploads of days from base on.
func startStack(t *testing.T, base time.Time) (*testenv.Influx, *influxProxy, []bureau, *serve, *posters) {
	t.Helper()
	t0 := time.Now()
	influx := testenv.StartInflux(t)
	proxy := newInfluxProxy(t, influx.URL)
	bs := newBureaus(t)
	qm := newServe(t, influx, proxy.URL, bs)
	qm.start(t)
	t.Logf("InfluxDB and qualitymon ready after %v", time.Since(t0).Round(time.Millisecond))
	return influx, proxy, bs, qm, startPosters(t, qm.uploadURL(), bs, base)
}

// TestInfluxKilledMidUpload (issue 9 item 9): six bureaus post uploads
// concurrently to a real `qualitymon serve`; InfluxDB is killed with
// SIGKILL right after it stored a write whose answer qualitymon never gets,
// while uploads are in flight; bureaus keep posting while it is down and
// while it restarts. Asserted: every upload is answered 200 (pending true
// while InfluxDB is down); /readyz answers 503 while it is down and 200
// after; once the spool has drained, InfluxDB holds exactly the rows of the
// acknowledged uploads, each once with the value sent, none as a revision
// (revision 0, nothing in observation_revision), and nothing else.
func TestInfluxKilledMidUpload(t *testing.T) {
	t0 := time.Now()
	influx, proxy, bs, qm, ps := startStack(t, time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC))
	ok := func(s *sent) bool { return s.acked() && !s.ans.Pending }
	ps.waitCount(t, qm.proc, "uploads stored before the kill", 3*nBureaus, ok)

	held := proxy.HoldNextWrite()
	held.wait(t)
	ps.phase.Store(1)
	influx.Kill()
	held.Release(false) // qualitymon never learns that this write was stored
	tKill := time.Now()
	t.Logf("killed InfluxDB after it stored a write of %d points, with %d uploads answered so far", held.points, len(ps.sent()))

	qm.waitReadyz(t, http.StatusServiceUnavailable)
	ps.waitCount(t, qm.proc, "uploads acknowledged pending while InfluxDB is down", 2*nBureaus, func(s *sent) bool {
		return s.phase == 1 && s.acked() && s.ans.Pending
	})
	t1 := time.Now()
	influx.Restart(t)
	ps.phase.Store(2)
	t.Logf("InfluxDB down for %v (restart took %v)", time.Since(tKill).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	qm.waitReadyz(t, http.StatusOK)
	ps.waitCount(t, qm.proc, "uploads stored after the restart", nBureaus, func(s *sent) bool { return s.phase == 2 && ok(s) })
	all := ps.Stop()
	t1 = time.Now()
	qm.waitDrained(t)
	t.Logf("spool drained %v after the posters stopped", time.Since(t1).Round(time.Millisecond))

	want := map[string]float64{}
	byPhase := map[string]int{}
	for _, s := range all {
		if !s.acked() {
			t.Errorf("%s: want 200 (qualitymon stayed up; pending while InfluxDB is down)", s)
			continue
		}
		checkAnswer(t, s)
		byPhase[fmt.Sprintf("phase %d pending %v", s.phase, s.ans.Pending)]++
		for k, v := range s.rows {
			want[k] = v
		}
	}
	t.Logf("%d uploads, %d rows acknowledged: %v", len(all), len(want), byPhase)
	checkExactlyOnce(t, stored(t, influx), want, "after InfluxDB was killed and restarted")
	checkAudit(t, qm.auditLog(), bs, all)
	t.Logf("total %v", time.Since(t0).Round(time.Millisecond))
}

// TestQualitymonKilledMidFlush (issue 9 item 9): six bureaus post uploads
// concurrently to a real `qualitymon serve`; its flusher's next write is
// stored by InfluxDB but its answer held, so the flusher is mid-write while
// uploads pile up in the spool and are acknowledged pending; qualitymon is
// then killed with SIGKILL, with acknowledged rows in the spool only, and
// started again on the same spool. Asserted: /readyz 200 again, the spool
// drains; InfluxDB holds every acknowledged row once with its value, no
// row of a key never sent, every upload cut off by the kill either whole
// or not at all, and no revision (the replay of the write InfluxDB had
// stored counts as unchanged); then every upload posted again, as a bureau
// unsure of its answer would, is answered unchanged (acknowledged ones) or
// new or unchanged as a whole (cut-off ones), never a revision, and
// InfluxDB holds exactly every row sent, each once.
func TestQualitymonKilledMidFlush(t *testing.T) {
	t0 := time.Now()
	influx, proxy, bs, qm, ps := startStack(t, time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC))
	ps.waitCount(t, qm.proc, "uploads stored", 3*nBureaus, func(s *sent) bool { return s.acked() && !s.ans.Pending })

	// The flusher's next write is stored by InfluxDB; its answer is held.
	held := proxy.HoldNextWrite()
	held.wait(t)
	var onlySpooled int
	testenv.WaitFor(t, qm.proc, bound, "acknowledged rows that are in the spool only", func() (bool, string) {
		st := stored(t, influx)
		onlySpooled = 0
		for _, s := range ps.sent() {
			if s.acked() {
				for k := range s.rows {
					if _, ok := st.values[k]; !ok {
						onlySpooled++
					}
				}
			}
		}
		return onlySpooled > 0, fmt.Sprintf("%d uploads answered", len(ps.sent()))
	})
	qm.proc.Kill()
	all := ps.Stop()
	held.Release(true)
	before := stored(t, influx)
	t.Logf("killed qualitymon mid-write (a write of %d points stored, unanswered) with %d acknowledged rows in the spool only; InfluxDB holds %d rows",
		held.points, onlySpooled, len(before.values))

	tRestart := time.Now()
	qm.start(t)
	qm.waitDrained(t)
	t.Logf("restarted and drained in %v", time.Since(tRestart).Round(time.Millisecond))

	// Acknowledged: stored once. Cut off by the kill: whole or not at all.
	want, maybe := map[string]float64{}, map[string]float64{}
	var cut []*sent
	for _, s := range all {
		if s.acked() {
			checkAnswer(t, s)
			for k, v := range s.rows {
				want[k] = v
			}
			continue
		}
		if s.status != 0 {
			t.Errorf("%s: want 200, or no answer when cut off by the kill", s)
		}
		cut = append(cut, s)
	}
	st := stored(t, influx)
	for _, s := range cut {
		st.wholeOrNone(t, s, maybe)
	}
	t.Logf("%d uploads: %d acknowledged (%d rows), %d cut off by the kill (%d rows of them stored)", len(all), len(all)-len(cut), len(want), len(cut), len(maybe))
	for k, v := range maybe {
		want[k] = v
	}
	checkExactlyOnce(t, st, want, "after qualitymon was killed mid-flush and restarted")
	checkAudit(t, qm.auditLog(), bs, all)
	checkArchive(t, filepath.Join(qm.dir, "archive"), all)

	// Every upload again, as a bureau that is not sure of its answer; as
	// many at once as may wait for InfluxDB's answer (more would be
	// answered pending, without new/unchanged to check).
	var wg sync.WaitGroup
	work := make(chan *sent)
	var mu sync.Mutex
	again := map[string]int{}
	for range spool.DefaultMaxWaiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: time.Minute}
			for s := range work {
				status, a, err := post(cl, qm.uploadURL(), bs[s.bureau].token, s.body)
				r := &sent{bureau: s.bureau, seq: s.seq, status: status, ans: a, err: err}
				_, wasStored := st.values[firstKey(s.rows)]
				var bad bool
				switch {
				case status != http.StatusOK || a.Pending || a.Accepted != nRows || a.Revised != 0:
					bad = true
				case wasStored:
					bad = a.Unchanged != nRows
				default:
					bad = a.New != nRows
				}
				mu.Lock()
				again[fmt.Sprintf("acknowledged=%v stored=%v new=%d unchanged=%d", s.acked(), wasStored, a.New, a.Unchanged)]++
				mu.Unlock()
				if bad {
					t.Errorf("posted again: %s (first %s; its rows were stored before: %v): want 200, not pending, unchanged if stored else new, never revised", r, s, wasStored)
				}
			}
		}()
	}
	for _, s := range all {
		work <- s
	}
	close(work)
	wg.Wait()
	t.Logf("every upload posted again: %v", again)
	all2 := map[string]float64{}
	for _, s := range all {
		for k, v := range s.rows {
			all2[k] = v
		}
	}
	checkExactlyOnce(t, stored(t, influx), all2, "after every upload was posted again")
	t.Logf("total %v", time.Since(t0).Round(time.Millisecond))
}

// checkArchive checks the upload archive after a kill: every acknowledged
// upload's body is there, whole; the only damage allowed is a torn record
// (the write the kill cut off, of an upload never answered).
func checkArchive(t *testing.T, dir string, uploads []*sent) {
	t.Helper()
	kept := map[string]bool{}
	damage, err := upload.ReadArchive(dir, upload.DefaultMaxBytes, func(a *upload.Archived) error {
		kept[a.SHA256] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range damage {
		if !strings.Contains(d.Error(), "torn") {
			t.Errorf("upload archive damaged after the kill: %v", d)
		}
	}
	for _, s := range uploads {
		if sum := sha256.Sum256(s.body); s.acked() && !kept[hex.EncodeToString(sum[:])] {
			t.Errorf("%s: acknowledged, its original not in the archive", s)
		}
	}
}

// auditLine is what the tests read of a line of uploads.audit_log.
type auditLine struct {
	Bureau  string `json:"bureau"`
	SHA256  string `json:"sha256"`
	Status  int    `json:"status"`
	Result  string `json:"result"`
	Pending bool   `json:"pending"`
}

// checkAudit checks the audit log against the uploads sent: for each
// acknowledged upload its accepting line (written before its rows went to
// the spool) and one line of its outcome (its bureau, the SHA-256 of its
// body, 200, accepted, pending as answered), at most one of each for an
// upload cut off by a kill, none for anything else, and every line whole.
func checkAudit(t *testing.T, path string, bs []bureau, uploads []*sent) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byHash, accepting := map[string][]auditLine{}, map[string]int{}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("audit log line %d: %v: %q", n, err, sc.Text())
			continue
		}
		if l.Result == upload.ResultAccepting {
			accepting[l.SHA256]++
			continue
		}
		byHash[l.SHA256] = append(byHash[l.SHA256], l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range uploads {
		sum := sha256.Sum256(s.body)
		h := hex.EncodeToString(sum[:])
		ls, acc := byHash[h], accepting[h]
		delete(byHash, h)
		delete(accepting, h)
		switch {
		case s.acked() && acc != 1:
			t.Errorf("%s: %d accepting audit lines, want one", s, acc)
		case !s.acked() && acc > 1:
			t.Errorf("%s: %d accepting audit lines, want at most one", s, acc)
		}
		switch {
		case s.acked() && (len(ls) != 1 || ls[0] != auditLine{Bureau: bs[s.bureau].name, SHA256: h, Status: http.StatusOK, Result: "accepted", Pending: s.ans.Pending}):
			t.Errorf("%s: audit lines %+v, want one: accepted, 200, pending %v", s, ls, s.ans.Pending)
		case !s.acked() && len(ls) > 1:
			t.Errorf("%s: audit lines %+v, want at most one", s, ls)
		}
	}
	for h, ls := range byHash {
		t.Errorf("audit lines for an upload never sent (%s): %+v", h, ls)
	}
	for h, n := range accepting {
		t.Errorf("%d accepting audit lines for an upload never sent (%s)", n, h)
	}
	t.Logf("audit log: %d lines for %d uploads", n, len(uploads))
}

func firstKey(m map[string]float64) string {
	for k := range m {
		return k
	}
	return ""
}
