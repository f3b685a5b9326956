package faults

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/cli"
	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// The review tests' bureaus: a city bureau whose uploads are held
// (review: required), the reviewer of its regions, and a bureau without
// review.
const (
	heldToken     = "review-fault-held-bureau-0123456789"
	reviewerToken = "review-fault-reviewer-0123456789ab"
	directToken   = "review-fault-direct-bureau-01234567"
	reviewRows    = 12
)

// reviewServe is `qualitymon serve` with the three bureaus, its review_dir
// and uploads.audit_log where the test says (a tmpfs for the full-disk
// test).
func reviewServe(t *testing.T, influx *testenv.Influx, influxURL, reviewDir, auditLog string) (*serve, []string) {
	t.Helper()
	_, regs := testenv.Targets(t)
	var prefs []string
	for _, r := range regs.All() {
		if r.Level == region.Prefecture {
			prefs = append(prefs, r.Code)
		}
	}
	held, direct := prefs[:reviewRows], prefs[reviewRows:2*reviewRows]
	s := newServeAt(t, influx, influxURL, []bureau{
		{name: "复核测试市局", token: heldToken, regions: held, with: "review: required"},
		{name: "复核测试省局", token: reviewerToken, regions: prefs[:2*reviewRows], with: "role: reviewer"},
		{name: "直报测试局", token: directToken, regions: direct},
	}, reviewDir, auditLog)
	return s, prefs[:2*reviewRows]
}

// startHalting starts serve to stop at the review's point (cli.EnvHaltReview);
// ready says whether to wait for /readyz (false: the point is reached
// while starting, by the hand-over of what a crash left approved).
func (s *serve) startHalting(t *testing.T, point string, ready bool) {
	t.Helper()
	s.starts++
	env := append(append([]string(nil), s.env...), cli.EnvHaltReview+"="+point)
	s.proc = testenv.StartProcess(t, s.dir, fmt.Sprintf("qualitymon-serve-%d", s.starts), env, s.bin, "serve", "--config", s.cfg)
	if ready {
		s.waitReadyz(t, http.StatusOK)
	}
}

// waitHalted waits until serve has stopped at the fault point.
func (s *serve) waitHalted(t *testing.T, point string) {
	t.Helper()
	testenv.WaitFor(t, s.proc, bound, "serve halted at "+point, func() (bool, string) {
		tail := s.proc.Tail(40)
		return strings.Contains(tail, "review halted for a fault test") && strings.Contains(tail, point), "log: " + tail
	})
}

// heldUpload is one upload of the held bureau: reviewRows rows of
// aqi_daily, one per region, of day n.
type heldUpload struct {
	name string
	body []byte
	rows map[string]float64 // "region/time" as stored() keys them
	id   string             // review id
}

func makeHeld(regions []string, n int) *heldUpload {
	day := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	u := &heldUpload{name: fmt.Sprintf("upload %c", 'A'+n), rows: map[string]float64{}}
	var b bytes.Buffer
	b.WriteString("indicator,region,period,value\n")
	for i, reg := range regions {
		v := float64(100+n*reviewRows+i) / 4
		fmt.Fprintf(&b, "aqi_daily,%s,%s,%s\n", reg, day.Format("2006-01-02"), strconv.FormatFloat(v, 'f', -1, 64))
		u.rows[reg+"/"+day.Format(time.RFC3339)] = v
	}
	u.body = b.Bytes()
	return u
}

// postHeld uploads u as the held bureau and keeps its review id.
func (s *serve) postHeld(t *testing.T, u *heldUpload) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.uploadURL(), bytes.NewReader(u.body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+heldToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Held     bool   `json:"held"`
		ReviewID string `json:"review_id"`
		Accepted int    `json:"accepted"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &a); err != nil || resp.StatusCode != http.StatusOK || !a.Held || a.ReviewID == "" || a.Accepted != reviewRows {
		t.Fatalf("%s: %d %s, want 200 held with a review id", u.name, resp.StatusCode, raw)
	}
	u.id = a.ReviewID
}

// reviewer is the reviewer signed in to the web workspace of one serve.
type reviewer struct {
	cl   *http.Client
	base string
}

var csrfRE = `name="csrf" value="`

func formCSRF(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, csrfRE)
	if i < 0 {
		t.Fatalf("no csrf field in the page:\n%s", body)
	}
	rest := body[i+len(csrfRE):]
	return rest[:strings.Index(rest, `"`)]
}

func (s *serve) signIn(t *testing.T) *reviewer {
	t.Helper()
	return signInAs(t, "http://"+s.addr, reviewerToken)
}

// signInAs signs in to the web workspace at base with token.
func signInAs(t *testing.T, base, token string) *reviewer {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	r := &reviewer{base: base, cl: &http.Client{Jar: jar, Timeout: bound,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, _, body := r.do(t, http.MethodGet, "/bureau", nil)
	code, _, body := r.do(t, http.MethodPost, "/bureau/signin", url.Values{"token": {token}, "csrf": {formCSRF(t, body)}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	return r
}

func (r *reviewer) do(t *testing.T, method, path string, form url.Values) (int, http.Header, string) {
	t.Helper()
	code, hdr, body, err := r.try(method, path, form)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, hdr, body
}

func (r *reviewer) try(method, path string, form url.Values) (int, http.Header, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, r.base+path, body)
	if err != nil {
		return 0, nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := r.cl.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw), err
}

// decide approves or returns (what) an upload from the review page.
func (r *reviewer) decide(t *testing.T, id, what, comment string) (int, http.Header, string, error) {
	t.Helper()
	return r.post(id, what, comment, r.csrf(t))
}

// csrf is the CSRF token of the review page's forms.
func (r *reviewer) csrf(t *testing.T) string {
	t.Helper()
	_, _, page := r.do(t, http.MethodGet, "/review", nil)
	return formCSRF(t, page)
}

// post sends the review page's form (from any goroutine).
func (r *reviewer) post(id, what, comment, csrf string) (int, http.Header, string, error) {
	return r.try(http.MethodPost, "/review/"+id+"/"+what, url.Values{"csrf": {csrf}, "comment": {comment}})
}

// approveUnanswered posts an approval that the kill leaves unanswered.
func (r *reviewer) approveUnanswered(t *testing.T, id string) {
	t.Helper()
	csrf := r.csrf(t)
	go r.post(id, "approve", "", csrf)
}

// queueState is the state of each upload as its file in review_dir says:
// an open one's in uploads, a decided one's in the archive (which wins).
func queueState(t *testing.T, reviewDir string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(reviewDir, "uploads", "*.json"))
	archived, _ := filepath.Glob(filepath.Join(reviewDir, "archive", "*", "*.json"))
	files = append(files, archived...)
	out := map[string]string{}
	for _, f := range files {
		var u reporting.Upload
		raw, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(raw, &u)
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[u.ID] = u.State
	}
	return out
}

// reviewAudit is the actions of review_dir/audit.jsonl by upload, in order.
func reviewAudit(t *testing.T, reviewDir string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(reviewDir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct{ Action, Upload string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("review audit line %q: %v", sc.Text(), err)
		}
		out[l.Upload] = strings.TrimSpace(out[l.Upload] + " " + l.Action)
	}
	return out
}

// checkReview checks each upload's state in the queue and its audit
// actions.
func checkReview(t *testing.T, reviewDir, when string, ups []*heldUpload, states, actions []string) {
	t.Helper()
	st, au := queueState(t, reviewDir), reviewAudit(t, reviewDir)
	for i, u := range ups {
		if st[u.id] != states[i] || au[u.id] != actions[i] {
			t.Errorf("%s: %s is %q with audit actions %q; want %q with %q", when, u.name, st[u.id], au[u.id], states[i], actions[i])
		}
	}
}

func wantRows(ups ...*heldUpload) map[string]float64 {
	out := map[string]float64{}
	for _, u := range ups {
		for k, v := range u.rows {
			out[k] = v
		}
	}
	return out
}

// TestReviewKilledAtEachStep (issue 17 item 3): five uploads of a bureau
// with review: required are held by a real `qualitymon serve` over a real
// InfluxDB; the reviewer approves from the web page and serve is killed
// with SIGKILL at each step of the approval, then started again on the
// same directories:
//
//   - A, killed after the approval's audit line, before its decision is
//     durable: after the restart A is held (待审核), its audit says
//     hold approve approve_failed, none of its rows is stored;
//   - B, killed after the decision is durable, before any row went to the
//     spool: the restart hands it over — stored, audited hold approve store;
//   - B again, killed while that restart's hand-over had given its rows to
//     the spool but not yet marked it stored; and C, killed while its
//     approval waited for a slow InfluxDB (the proxy holds InfluxDB's
//     answer to a write it stored): after the restarts both are stored;
//   - D is returned, E stays held.
//
// Asserted after every restart: each upload's state in the queue, its
// audit actions, and what InfluxDB holds — the rows of B and C exactly
// once each (value as sent, no revision), never a row of A, D or E; and
// that returning an approved upload after the restart is refused (409).
func TestReviewKilledAtEachStep(t *testing.T) {
	t0 := time.Now()
	influx := testenv.StartInflux(t)
	proxy := newInfluxProxy(t, influx.URL)
	dir := t.TempDir()
	reviewDir := filepath.Join(dir, "review")
	s, regions := reviewServe(t, influx, proxy.URL, reviewDir, filepath.Join(dir, "audit.jsonl"))
	ups := make([]*heldUpload, 5)
	for i := range ups {
		ups[i] = makeHeld(regions[:reviewRows], i)
	}
	A, B, C, D := ups[0], ups[1], ups[2], ups[3] // E stays held

	// Run 1: stop after the approval's audit line.
	s.startHalting(t, reporting.StepApproveAudited, true)
	for _, u := range ups {
		s.postHeld(t, u)
	}
	rv := s.signIn(t)
	rv.approveUnanswered(t, A.id)
	s.waitHalted(t, reporting.StepApproveAudited)
	s.proc.Kill()

	// Run 2: A was not approved. Stop after B's decision is durable.
	s.startHalting(t, reporting.StepApproved, true)
	checkReview(t, reviewDir, "killed before the decision was durable", ups,
		[]string{"held", "held", "held", "held", "held"}, []string{"hold approve approve_failed", "hold", "hold", "hold", "hold"})
	checkExactlyOnce(t, stored(t, influx), nil, "killed before the decision was durable")
	rv = s.signIn(t)
	rv.approveUnanswered(t, B.id)
	s.waitHalted(t, reporting.StepApproved)
	s.proc.Kill()
	checkReview(t, reviewDir, "killed after the decision, before the spool", ups,
		[]string{"held", "approved", "held", "held", "held"}, []string{"hold approve approve_failed", "hold approve", "hold", "hold", "hold"})

	// Run 3: the start hands B to the spool and stops before marking it
	// stored.
	s.startHalting(t, reporting.StepSpooled, false)
	s.waitHalted(t, reporting.StepSpooled)
	s.proc.Kill()
	checkReview(t, reviewDir, "killed after the spool, before stored", ups,
		[]string{"held", "approved", "held", "held", "held"}, []string{"hold approve approve_failed", "hold approve", "hold", "hold", "hold"})

	// Run 4: B is stored once. C is approved while InfluxDB is slow: its
	// write is stored, the answer held, and serve killed meanwhile.
	s.start(t)
	s.waitDrained(t)
	checkReview(t, reviewDir, "restarted", ups,
		[]string{"held", "stored", "held", "held", "held"}, []string{"hold approve approve_failed", "hold approve store", "hold", "hold", "hold"})
	checkExactlyOnce(t, stored(t, influx), wantRows(B), "B after the restarts")
	rv = s.signIn(t)
	held := proxy.HoldNextWrite()
	rv.approveUnanswered(t, C.id)
	held.wait(t)
	s.proc.Kill()
	held.Release(false)
	if got := stored(t, influx); len(got.values) != 2*reviewRows {
		t.Fatalf("C's write was held after InfluxDB stored it, yet InfluxDB holds %d rows, want B's and C's (%d)", len(got.values), 2*reviewRows)
	}

	// Run 5: C is stored (again: unchanged); D is returned; returning an
	// approved upload is refused.
	s.start(t)
	s.waitDrained(t)
	rv = s.signIn(t)
	if code, _, body, err := rv.decide(t, D.id, "return", "数据与年鉴不符"); err != nil || code != http.StatusSeeOther {
		t.Fatalf("returning D: %d %v %s", code, err, body)
	}
	for _, u := range []*heldUpload{B, C} {
		if code, _, body, err := rv.decide(t, u.id, "return", "撤回"); err != nil || code != http.StatusConflict || !strings.Contains(body, "已被批准或退回") {
			t.Errorf("returning the approved %s after the restart: %d %v, want 409", u.name, code, err)
		}
	}
	s.waitDrained(t)
	checkReview(t, reviewDir, "at the end", ups,
		[]string{"held", "stored", "stored", "returned", "held"},
		[]string{"hold approve approve_failed", "hold approve store return_refused", "hold approve store return_refused", "hold return", "hold"})
	checkExactlyOnce(t, stored(t, influx), wantRows(B, C), "at the end (A and E held, D returned, B and C approved)")
	t.Logf("total %v", time.Since(t0).Round(time.Millisecond))
}

// TestReviewFullDisk (issue 17 items 3 and 5): a real `qualitymon serve`
// with its review_dir on one small tmpfs and its uploads.audit_log on
// another. With the review_dir full, 批准 and 退回 answer 503 with
// Retry-After and a Chinese message, the upload stays held (its audit has
// only the hold) and InfluxDB holds none of its rows; with space again the
// approval stores them, once. With the audit log's disk full, an upload of
// a bureau without review answers 503 with Retry-After and none of its
// rows is stored; with space again it is stored, audited accepting before
// accepted.
func TestReviewFullDisk(t *testing.T) {
	reviewDisk, auditDisk := testenv.Tmpfs(t, 512<<10), testenv.Tmpfs(t, 256<<10)
	influx := testenv.StartInflux(t)
	reviewDir, auditLog := filepath.Join(reviewDisk, "review"), filepath.Join(auditDisk, "audit.jsonl")
	s, regions := reviewServe(t, influx, influx.URL, reviewDir, auditLog)
	s.start(t)
	F := makeHeld(regions[:reviewRows], 0)
	s.postHeld(t, F)
	rv := s.signIn(t)

	fill := filepath.Join(reviewDisk, "filler")
	testenv.FillDisk(t, fill)
	for _, what := range []string{"approve", "return"} {
		code, hdr, body, err := rv.decide(t, F.id, what, "退回意见")
		if err != nil || code != http.StatusServiceUnavailable || hdr.Get("Retry-After") != strconv.Itoa(upload.RetryAfter) || !strings.Contains(body, "审核决定未能保存") {
			t.Errorf("%s with the review_dir's disk full: %d, Retry-After %q, %v; want 503 with Retry-After and 审核决定未能保存:\n%s", what, code, hdr.Get("Retry-After"), err, body)
		}
	}
	s.waitDrained(t)
	// The audit line may fit in the log's last page while the decision
	// does not: then it is followed by its _failed line.
	if st, au := queueState(t, reviewDir)[F.id], reviewAudit(t, reviewDir)[F.id]; st != "held" ||
		strings.NewReplacer("approve approve_failed", "", "return return_failed", "", " ", "").Replace(au) != "hold" {
		t.Errorf("review_dir full: the upload is %q with audit actions %q; want held, with every attempt not audited or audited as failed", st, au)
	}
	failedAudit := reviewAudit(t, reviewDir)[F.id]
	checkExactlyOnce(t, stored(t, influx), nil, "after 批准 on a full review_dir")

	os.Remove(fill)
	if code, _, body, err := rv.decide(t, F.id, "approve", ""); err != nil || code != http.StatusSeeOther {
		t.Fatalf("approving with space again: %d %v %s", code, err, body)
	}
	s.waitDrained(t)
	checkReview(t, reviewDir, "approved with space again", []*heldUpload{F}, []string{"stored"}, []string{failedAudit + " approve store"})
	checkExactlyOnce(t, stored(t, influx), wantRows(F), "after 批准 with space again")

	// The audit log's disk full. Files take whole pages, so the log's last
	// page may still hold a line or two: uploads answered 200 until then
	// are stored and audited; the first refused (503) stores nothing.
	fill = filepath.Join(auditDisk, "filler")
	testenv.FillDisk(t, fill)
	want := wantRows(F)
	var refused *heldUpload
	var accepted []*heldUpload
	for n := 1; refused == nil; n++ {
		if n > 10 {
			t.Fatal("10 uploads accepted with the audit log's disk full")
		}
		G := makeHeld(regions[reviewRows:], n)
		status, ans, err := post(http.DefaultClient, s.uploadURL(), directToken, G.body)
		switch {
		case err == nil && status == http.StatusOK && ans.New == reviewRows:
			accepted = append(accepted, G)
			for k, v := range G.rows {
				want[k] = v
			}
		case err == nil && status == http.StatusServiceUnavailable && strings.Contains(ans.Error, "audit"):
			refused = G
		default:
			t.Fatalf("upload %d with the audit log's disk full: %d %+v %v, want 200 or 503 naming the audit log", n, status, ans, err)
		}
	}
	s.waitDrained(t)
	checkExactlyOnce(t, stored(t, influx), want, fmt.Sprintf("after %d uploads accepted and one refused with the audit log's disk full", len(accepted)))
	os.Remove(fill)
	if status, ans, err := post(http.DefaultClient, s.uploadURL(), directToken, refused.body); err != nil || status != http.StatusOK || ans.New != reviewRows {
		t.Fatalf("the refused upload with space again: %d %+v %v", status, ans, err)
	}
	s.waitDrained(t)
	checkExactlyOnce(t, stored(t, influx), wantRows(append(accepted, F, refused)...), "after the refused upload was sent again with space")
	// Every upload that reached the spool has its accepting line; the
	// refused attempt has none.
	accepting := map[string]int{}
	raw, _ := os.ReadFile(auditLog)
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var l auditLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("audit line %q: %v", line, err)
		}
		if l.Result == upload.ResultAccepting {
			accepting[l.SHA256]++
		}
	}
	for _, u := range append(accepted, refused) {
		sum := sha256.Sum256(u.body)
		if n := accepting[hex.EncodeToString(sum[:])]; n != 1 {
			t.Errorf("%s: %d accepting audit lines, want 1 (the attempt refused for the full disk has none)", u.name, n)
		}
	}
	t.Logf("with the audit log's disk full: %d uploads accepted into the log's last page, then one refused", len(accepted))
}
