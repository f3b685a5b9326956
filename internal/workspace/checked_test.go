package workspace

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// post sends a file (or, with file "", the fields only) to a workspace
// form as the session c.
func (e *bureauEnv) post(c *http.Cookie, path string, fields map[string]string, file string, data []byte) *httptest.ResponseRecorder {
	body, ct := multipartBody(e.t, fields, file, data)
	r := httptest.NewRequest("POST", path, body)
	r.Header.Set("Content-Type", ct)
	r.AddCookie(c)
	return e.do(r)
}

// field is the value of the page's input named name ("" when none).
func field(page, name string) string {
	i := strings.Index(page, `name="`+name+`" value="`)
	if i < 0 {
		return ""
	}
	v := page[i+len(`name="`+name+`" value="`):]
	return v[:strings.Index(v, `"`)]
}

// Twelve sessions each check a clean file (issue 19 item 2): the session
// holds no file — its struct has no field that could (no slice, map or
// pointer), only the id — and each file waits on disk, as chosen; 提交
// sends it from there and removes it; 退出 removes a session's file; and
// CheckedExpiry after a 校验 its file is gone (removed at the next 校验),
// so 提交 asks for the file again.
func TestBureauCheckedFilesWaitOnDisk(t *testing.T) {
	for i := range reflect.TypeFor[session]().NumField() {
		f := reflect.TypeFor[session]().Field(i)
		if k := f.Type.Kind(); k == reflect.Slice || k == reflect.Map || k == reflect.Pointer || k == reflect.Interface {
			t.Errorf("session.%s is a %s: a session could hold a file", f.Name, f.Type)
		}
	}
	e := newBureau(t, config.Web{})
	type signedIn struct {
		c        *http.Cookie
		csrf, id string
		file     []byte
	}
	var ss []signedIn
	for i := range 12 {
		c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
		_, csrf := e.page(c)
		file := []byte(fmt.Sprintf("指标,地区,时期,数值,备注\n食品抽检合格率,青岛市,%d,97.%d,%s\n", 2010+i, i, strings.Repeat("核", 150)))
		out := e.post(c, "/bureau/check", map[string]string{"csrf": csrf}, fmt.Sprintf("f%d.csv", i), file).Body.String()
		id := field(out, "checked")
		if id == "" || !strings.Contains(out, "校验通过") {
			t.Fatalf("check %d:\n%s", i, out)
		}
		ss = append(ss, signedIn{c, csrf, id, file})
	}
	for i, s := range ss {
		if got, err := os.ReadFile(filepath.Join(e.dir, s.id+".file")); err != nil || !bytes.Equal(got, s.file) {
			t.Fatalf("session %d's checked file on disk: %v", i, err)
		}
	}
	// 提交 from disk; the file is then gone.
	out := e.post(ss[0].c, "/bureau/submit", map[string]string{"csrf": ss[0].csrf, "checked": ss[0].id}, "", nil).Body.String()
	if !strings.Contains(out, "已提交并入库") {
		t.Fatalf("submit of a checked file:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(e.dir, ss[0].id+".file")); !os.IsNotExist(err) {
		t.Errorf("the submitted file is still on disk: %v", err)
	}
	// Another session of the same bureau cannot submit it.
	out = e.post(ss[1].c, "/bureau/submit", map[string]string{"csrf": ss[1].csrf, "checked": ss[2].id}, "", nil).Body.String()
	if !strings.Contains(out, "已不在服务器上") {
		t.Errorf("a session submitted another session's checked file:\n%.400s", out)
	}
	// 退出 removes the session's file.
	r := httptest.NewRequest("POST", "/bureau/signout", strings.NewReader("csrf="+ss[1].csrf))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(ss[1].c)
	e.do(r)
	if _, err := os.Stat(filepath.Join(e.dir, ss[1].id+".file")); !os.IsNotExist(err) {
		t.Errorf("a signed-out session's file is still on disk: %v", err)
	}
	// Past CheckedExpiry the files go (the sessions are kept alive).
	e.now = e.now.Add(CheckedExpiry - time.Minute)
	for _, s := range ss[2:] {
		e.page(s.c)
	}
	e.now = e.now.Add(2 * time.Minute)
	future := time.Now().Add(-CheckedExpiry - time.Minute) // the files' own times, as the clock says
	files, _ := filepath.Glob(filepath.Join(e.dir, "*"))
	for _, f := range files {
		os.Chtimes(f, future, future)
	}
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	_, csrf := e.page(c)
	if out := e.post(c, "/bureau/check", map[string]string{"csrf": csrf}, "g.csv", ss[0].file).Body.String(); field(out, "checked") == "" {
		t.Fatalf("check after the expiry:\n%s", out)
	}
	if left, _ := filepath.Glob(filepath.Join(e.dir, "*.file")); len(left) != 1 {
		t.Errorf("after the expiry %d checked files are on disk, want only the new one", len(left))
	}
	out = e.post(ss[3].c, "/bureau/submit", map[string]string{"csrf": ss[3].csrf, "checked": ss[3].id}, "", nil).Body.String()
	if !strings.Contains(out, "已不在服务器上") || strings.Contains(out, "已提交并入库") {
		t.Errorf("an expired checked file was submitted:\n%.400s", out)
	}
}

// A file with errors of four kinds: the page counts them by kind and
// links every error as CSV; the CSV (UTF-8 with BOM, columns 行, 列,
// 值摘录, 错误) has each error with its row, column, value and the error
// in Chinese. The link needs a session of the same bureau: another
// bureau's gets 404, no session goes to the sign-in form.
func TestBureauErrorsCSV(t *testing.T) {
	e := newBureau(t, config.Web{})
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	_, csrf := e.page(c)
	file := "指标,地区,时期,数值\n" +
		"食品抽检合格率,青岛市,2023,985\n" + // out of range
		"食品抽检合格率,青岛市,2022年13月,97\n" + // not a period
		"不存在的指标,青岛市,2021,97\n" + // unknown indicator
		"食品抽检合格率,青岛市,2020,九十七\n" + // not a number
		"食品抽检合格率,青岛市,2019,101\n" // out of range
	out := e.post(c, "/bureau/check", map[string]string{"csrf": csrf}, "errs.csv", []byte(file)).Body.String()
	for _, want := range []string{"5 处错误", "错误类型", "数值超出该指标的合理范围</td><td class=\"num\">2</td>", "下载全部错误清单"} {
		if !strings.Contains(out, want) {
			t.Errorf("check page lacks %q", want)
		}
	}
	i := strings.Index(out, `href="/bureau/errors/`)
	if i < 0 {
		t.Fatalf("no link to the errors CSV:\n%s", out)
	}
	link := out[i+len(`href="`):]
	link = link[:strings.Index(link, `"`)]
	r := httptest.NewRequest("GET", link, nil)
	r.AddCookie(c)
	rec := e.do(r)
	body := rec.Body.Bytes()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") || !bytes.HasPrefix(body, []byte("\uFEFF")) {
		t.Fatalf("errors CSV: %d %v % x", rec.Code, rec.Header(), body[:min(len(body), 8)])
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"行", "列", "值摘录", "错误"},
		{"2", "数值", "985", "数值超出该指标的合理范围"},
		{"3", "时期", "2022年13月", "时期格式不对"},
		{"4", "指标", "不存在的指标", "指标名称无法识别"},
		{"5", "数值", "九十七", "不是数字"},
		{"6", "数值", "101", "数值超出该指标的合理范围"},
	}
	if len(recs) != len(want) {
		t.Fatalf("errors CSV has %d records, want %d:\n%s", len(recs), len(want), body)
	}
	for i, w := range want {
		got := recs[i]
		if len(got) != 4 || got[0] != w[0] || got[1] != w[1] || got[2] != w[2] || !strings.HasPrefix(got[3], w[3]) {
			t.Errorf("errors CSV record %d: %q, want %q (the error beginning so)", i, got, w)
		}
	}
	// Another bureau's session: not found. No session: the sign-in form.
	other := config.UploadToken{Bureau: "济南市统计局", TokenSHA256: upload.HashToken("jinan-token"), Regions: []string{"370100"}}
	if err := e.w.SetTokens([]config.UploadToken{e.token, other}); err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest("GET", link, nil)
	r.AddCookie(sessionOf(e.signin("192.0.2.2:1000", "jinan-token")))
	if rec := e.do(r); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "九十七") {
		t.Errorf("another bureau's session got the errors CSV: %d", rec.Code)
	}
	if rec := e.do(httptest.NewRequest("GET", link, nil)); rec.Code != http.StatusSeeOther || strings.Contains(rec.Body.String(), "九十七") {
		t.Errorf("no session: %d, want the sign-in form", rec.Code)
	}
}

// A 9 MiB CSV of 320,000 rows, every one wrong (issue 19 item 2: such a
// file rendered a 39.6 MiB page): the page stays under 512 KiB — the first
// 50 errors, the counts by kind, at most 100 rows — and says how many
// errors there are (the pipeline stops at 1000) and how many rows the file
// has.
func TestBureauHugeFileBoundedPage(t *testing.T) {
	e := newBureauMax(t, config.Web{}, 10<<20)
	c := sessionOf(e.signin("192.0.2.1:1000", qdToken))
	_, csrf := e.page(c)
	var b bytes.Buffer
	b.WriteString("指标,地区,时期,数值\n")
	rows := 0
	for b.Len() < 9<<20 {
		fmt.Fprintf(&b, "食品抽检合格率,青岛市,%d,%d\n", 1000+rows%1000, 200+rows%700)
		rows++
	}
	rec := e.post(c, "/bureau/check", map[string]string{"csrf": csrf}, "huge.csv", b.Bytes())
	page := rec.Body.String()
	const bound = 512 << 10
	if rec.Code != 200 || len(page) > bound {
		t.Fatalf("the check page of a %d-byte file: %d, %d bytes; want 200 and at most %d bytes", b.Len(), rec.Code, len(page), bound)
	}
	for _, want := range []string{"至少 1000 处错误", fmt.Sprintf("共 %d 行", rows), "下表列出前 50 处", "下载全部错误清单"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<tr class=\"bad\">"); n > shownRows {
		t.Errorf("%d rows shown, want at most %d", n, shownRows)
	}
	t.Logf("a %d-byte file of %d rows: a page of %d bytes", b.Len(), rows, len(page))
}
