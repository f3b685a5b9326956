package upload

import (
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/store"
)

// TestEveryErrorInOnePass: a row outside the bureau's scope no longer
// hides the other errors of the file. Scope and five other kinds of error
// in one file are all listed (422, since not every error is one of scope),
// each naming its row and column; a file whose only errors are rows
// outside the scope is still a 403.
func TestEveryErrorInOnePass(t *testing.T) {
	e := newEnv(t, DefaultMaxBytes)
	in := "指标,地区,时期,数值\n" +
		"food_sampling_pass_rate,370200,2023,97\n" + // row 2: fine
		"food_sampling_pass_rate,山东省,2023,97\n" + // row 3: outside the scope
		"food_sampling_pass_rate,370200,2022,985\n" + // row 4: beyond 100 %
		"drug_sampling_pass_rate,370200,2022,\n" + // row 5: blank value
		"drug_sampling_pass_rate,370200,2023-Q1,98\n" + // row 6: a quarter for a yearly indicator
		"没有这个指标,370200,2023,98\n" + // row 7: unknown indicator
		"food_sampling_pass_rate,370200,2027,98\n" // row 8: the future
	resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte(in))
	if resp.Status != 422 {
		t.Fatalf("status %d, want 422 with every error: %+v", resp.Status, resp)
	}
	want := []wantErr{
		{row: 3, column: "地区", value: "山东省", message: "not allowed to report for region 370000"},
		{row: 4, column: "数值", value: "985", message: "outside the valid range"},
		{row: 5, column: "数值", value: "", message: "empty value"},
		{row: 6, column: "时期", value: "2023-Q1", message: "which is reported"},
		{row: 7, column: "指标", value: "没有这个指标", message: "unknown indicator"},
		{row: 8, column: "时期", value: "2027", message: "in the future"},
	}
	if len(resp.Errors) != len(want) {
		t.Fatalf("%d errors, want %d: %+v", len(resp.Errors), len(want), resp.Errors)
	}
	for i, w := range want {
		w.check(t, resp.Errors[i])
	}
	if !strings.Contains(resp.Error, "报送范围") {
		t.Errorf("error %q does not mention the scope", resp.Error)
	}
	if got := e.stored(t, "370200"); len(got) != 0 {
		t.Fatalf("stored %v from a refused file", got)
	}
	// Only rows outside the scope: 403.
	resp, _ = e.post(t, "", "text/csv", qingdaoToken, []byte("指标,地区,时期,数值\nfood_sampling_pass_rate,山东省,2023,97\n"))
	if resp.Status != 403 || len(resp.Errors) != 1 {
		t.Fatalf("%+v", resp)
	}
}

// TestPlausibilityWarnings: against the stored previous period (read from
// InfluxDB), 98.99 → 50.1 (a percentage, −48.89 points) and 10 → 9999 (a
// count, ×999.9) warn, 97 → 98 does not; a dry run lists the warnings, an
// upload without confirm_warnings=1 is refused with 409 naming them and
// stores nothing, with it is stored and audited as confirmed.
func TestPlausibilityWarnings(t *testing.T) {
	e := newEnv(t, DefaultMaxBytes)
	st := store.Open(store.Config{URL: e.influx.URL, Org: e.influx.Org, Token: e.influx.Token, Bucket: e.bucket, Timeout: 30 * time.Second})
	t.Cleanup(st.Close)
	e.h.History = st
	seed := "指标,地区,时期,数值\n" +
		"food_sampling_pass_rate,370200,2022,98.99\n" +
		"provincial_brand_products_new,370200,2022,10\n" +
		"drug_sampling_pass_rate,370200,2022,97\n"
	if resp, _ := e.post(t, "", "text/csv", qingdaoToken, []byte(seed)); resp.Status != 200 || resp.New != 3 || len(resp.Warnings) != 0 {
		t.Fatalf("seed: %+v", resp)
	}
	next := "指标,地区,时期,数值\n" +
		"food_sampling_pass_rate,370200,2023,50.1\n" +
		"provincial_brand_products_new,370200,2023,9999\n" +
		"drug_sampling_pass_rate,370200,2023,98\n"
	check := func(resp *Response) {
		t.Helper()
		if len(resp.Warnings) != 2 || resp.WarningCount != 2 {
			t.Fatalf("warnings %+v (count %d), want food 2023 and brands 2023", resp.Warnings, resp.WarningCount)
		}
		w0, w1 := resp.Warnings[0], resp.Warnings[1]
		if w0.Row != 2 || w0.Indicator != "food_sampling_pass_rate" || w0.Previous != 98.99 || w0.PreviousPeriod != "2022" ||
			!strings.Contains(w0.Message, "下降 48.89 个百分点") {
			t.Errorf("warning %+v", w0)
		}
		if w1.Row != 3 || w1.Indicator != "provincial_brand_products_new" || w1.Previous != 10 || !strings.Contains(w1.Message, "数量级") {
			t.Errorf("warning %+v", w1)
		}
	}
	resp, _ := e.post(t, "?dry_run=1", "text/csv", qingdaoToken, []byte(next))
	if resp.Status != 200 || resp.Accepted != 3 {
		t.Fatalf("dry run: %+v", resp)
	}
	check(resp)
	resp, _ = e.post(t, "", "text/csv", qingdaoToken, []byte(next))
	if resp.Status != 409 || !strings.Contains(resp.Error, "confirm_warnings=1") {
		t.Fatalf("without confirm_warnings: %+v", resp)
	}
	check(resp)
	if _, ok := e.stored(t, "370200")["drug_sampling_pass_rate/2023"]; ok {
		t.Fatal("an unconfirmed upload was stored")
	}
	resp, _ = e.post(t, "?confirm_warnings=1", "text/csv", qingdaoToken, []byte(next))
	if resp.Status != 200 || resp.New != 3 {
		t.Fatalf("with confirm_warnings=1: %+v", resp)
	}
	check(resp)
	if got := e.stored(t, "370200")["provincial_brand_products_new/2023"]; got != 9999 {
		t.Fatalf("stored %v", got)
	}
	lines := auditLines(t, e.cfg.AuditLog)
	refused, last := lines[len(lines)-3], lines[len(lines)-1]
	if refused.Status != 409 || refused.Warnings != 2 || refused.WarningsConfirmed {
		t.Errorf("audit of the refused upload %+v", refused)
	}
	if last.Status != 200 || last.Warnings != 2 || !last.WarningsConfirmed {
		t.Errorf("audit of the confirmed upload %+v", last)
	}
}
