package workspace

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// post sends a url-encoded form of the signed-in session (the due grid's,
// or 提交 of a checked file).
func (e *bureauEnv) postForm(c *http.Cookie, path string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(c)
	return e.do(r)
}

// checkedID is the id of the checked file a 校验 page offers to 提交.
func checkedID(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `name="checked" value="`)
	if i < 0 {
		t.Fatalf("no 提交 form:\n%s", page)
	}
	id := page[i+len(`name="checked" value="`):]
	return id[:strings.Index(id, `"`)]
}

// storedValue is the current value of a key in InfluxDB (nil: none).
func (e *bureauEnv) storedValue(ind, region string, year int) *float64 {
	e.t.Helper()
	k := observation.Key{Indicator: ind, Region: region}
	k.Period.Kind, k.Period.Year = 1, year
	got, err := e.st.CurrentValues(context.Background(), []observation.Key{k})
	if err != nil {
		e.t.Fatal(err)
	}
	if v, ok := got[k]; ok {
		return &v
	}
	return nil
}

// TestBureauGridEntry: figures typed into the due grid (网页填报) go the
// way of a file: 校验 lists their errors, 提交 stores them through the
// upload API (stored in InfluxDB, audited with via 网页填报, the CSV made
// from the form archived); a figure implausible against the stored
// previous period (98.99 → 50.1) is shown under 请核实 and is not stored
// until 已核实 is ticked; the forms need the session's CSRF token.
func TestBureauGridEntry(t *testing.T) {
	e := newBureau(t, config.Web{})
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	_, csrf := e.page(c)
	key := func(year string) string { return "food_sampling_pass_rate|370200|" + year }

	// Without the CSRF token: refused.
	if rec := e.postForm(c, "/bureau/entry/check", url.Values{"v|" + key("2022"): {"98.99"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("entry without csrf: %d", rec.Code)
	}
	// An error: listed, nothing kept for 提交.
	out := e.postForm(c, "/bureau/entry/check", url.Values{"csrf": {csrf}, "v|" + key("2022"): {"985"}, "n|" + key("2022"): {"网页填报的备注"}}).Body.String()
	if !strings.Contains(out, "数值超出该指标的合理范围") || strings.Contains(out, `name="checked"`) || !strings.Contains(out, "网页填报的备注") {
		t.Fatalf("entry with an error:\n%s", out)
	}
	// 2022 = 98.99: checked, then submitted from the checked page.
	out = e.postForm(c, "/bureau/entry/check", url.Values{"csrf": {csrf}, "v|" + key("2022"): {"98.99"}, "v|" + key("2023"): {""}}).Body.String()
	if !strings.Contains(out, "校验通过") || strings.Contains(out, "请核实") {
		t.Fatalf("clean entry:\n%s", out)
	}
	out = e.postForm(c, "/bureau/submit", url.Values{"csrf": {csrf}, "checked": {checkedID(t, out)}}).Body.String()
	if !strings.Contains(out, "已提交并入库") {
		t.Fatalf("submit:\n%s", out)
	}
	if v := e.storedValue("food_sampling_pass_rate", "370200", 2022); v == nil || *v != 98.99 {
		t.Fatalf("stored %v, want 98.99", v)
	}
	// 2023 = 50.1: a warning at 校验, refused at 提交 without 已核实.
	out = e.postForm(c, "/bureau/entry/check", url.Values{"csrf": {csrf}, "v|" + key("2023"): {"50.1"}}).Body.String()
	for _, want := range []string{"请核实", "下降 48.89 个百分点", `name="confirm"`, "已核实"} {
		if !strings.Contains(out, want) {
			t.Errorf("check page with a warning lacks %q", want)
		}
	}
	id := checkedID(t, out)
	out = e.postForm(c, "/bureau/submit", url.Values{"csrf": {csrf}, "checked": {id}}).Body.String()
	if !strings.Contains(out, "尚未提交") || e.storedValue("food_sampling_pass_rate", "370200", 2023) != nil {
		t.Fatalf("submit without 已核实 stored, or said:\n%s", out)
	}
	out = e.postForm(c, "/bureau/submit", url.Values{"csrf": {csrf}, "checked": {checkedID(t, out)}, "confirm": {"1"}}).Body.String()
	if !strings.Contains(out, "已提交并入库") {
		t.Fatalf("submit with 已核实:\n%s", out)
	}
	if v := e.storedValue("food_sampling_pass_rate", "370200", 2023); v == nil || *v != 50.1 {
		t.Fatalf("stored %v, want 50.1", v)
	}
	// The audit log: every send was a 网页填报, the last one confirmed.
	audit, err := os.ReadFile(e.audit)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(audit)), "\n")
	for _, l := range lines {
		if !strings.Contains(l, `"via":"`+upload.ViaEntry+`"`) || !strings.Contains(l, `"file":"网页填报.csv"`) {
			t.Errorf("audit line not of a 网页填报: %s", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, `"result":"accepted"`) || !strings.Contains(last, `"warnings_confirmed":true`) {
		t.Errorf("last audit line %s", last)
	}
}
