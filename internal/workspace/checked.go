package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/ingest"
)

// CheckedExpiry is how long a checked file waits on disk for 提交, and an
// errors CSV for its download, after the 校验 that left it.
const CheckedExpiry = SessionIdle

// checkedDir keeps, on disk, what a 校验 leaves for later: the clean file
// that 提交 sends without a second choice, and the list of every error of
// a file that had some (its CSV download). Nothing of a file stays in
// memory: a session knows only the id.
//
//	<dir>/<id>.file        the checked file, as chosen
//	<dir>/<id>.errors.csv  every error (UTF-8 with BOM, for Excel)
//	<dir>/<id>.json        whose it is (checkedMeta)
//
// Ids are random (randomID). Files older than CheckedExpiry are removed at
// start, at every sign-in and whenever a 校验 leaves a file; 提交 and 退出
// remove them at once.
type checkedDir struct {
	dir string
	now func() time.Time
}

// checkedMeta says whose the files of an id are and what the file was.
type checkedMeta struct {
	Bureau      string    `json:"bureau"`
	TokenSHA256 string    `json:"token_sha256"`
	Session     string    `json:"session"` // the SHA-256 of the session id
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Via         string    `json:"via,omitempty"` // upload.ViaWeb or ViaEntry
	Size        int64     `json:"size"`
	Created     time.Time `json:"created"`
}

func openCheckedDir(dir string, now func() time.Time) (*checkedDir, error) {
	if dir == "" {
		return nil, errors.New("workspace: no directory for checked files")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	c := &checkedDir{dir: dir, now: now}
	c.expire()
	return c, nil
}

func (c *checkedDir) path(id, ext string) string { return filepath.Join(c.dir, id+ext) }

// validID says whether id is one of randomID's (a file name of ours).
func validID(id string) bool {
	if len(id) != 43 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func sessionKey(sessionID string) string {
	h := sha256.Sum256([]byte(sessionID))
	return hex.EncodeToString(h[:])
}

// save writes meta and what fill writes for ext; the id is new.
func (c *checkedDir) save(meta checkedMeta, ext string, fill func(io.Writer) error) (string, error) {
	c.expire()
	id := randomID()
	meta.Created = c.now()
	if err := durable.WriteFileFrom(c.path(id, ext), 0o640, fill); err != nil {
		return "", err
	}
	b, err := json.Marshal(meta)
	if err == nil {
		err = os.WriteFile(c.path(id, ".json"), b, 0o640)
	}
	if err != nil {
		c.remove(id)
		return "", err
	}
	return id, nil
}

// saveFile keeps the chosen file for 提交, copied from the form.
func (c *checkedDir) saveFile(meta checkedMeta, fh *multipart.FileHeader) (string, error) {
	meta.Size = fh.Size
	return c.save(meta, ".file", func(w io.Writer) error {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
}

// saveErrors writes every error as CSV for Excel: 行, 列, 值摘录, 错误.
func (c *checkedDir) saveErrors(meta checkedMeta, errs []*ingest.Error) (string, error) {
	return c.save(meta, ".errors.csv", func(w io.Writer) error { return writeErrorsCSV(w, errs) })
}

// writeErrorsCSV writes errs as CSV for Excel (UTF-8 with BOM, CRLF,
// formula cells neutralised): the row (empty for the file as a whole),
// the column, an excerpt of the value, and the error in Chinese with what
// was expected.
func writeErrorsCSV(w io.Writer, errs []*ingest.Error) error {
	cw, err := ingest.NewCSVWriter(w, true)
	if err != nil {
		return err
	}
	cw.Write([]string{"行", "列", "值摘录", "错误"})
	for _, e := range errs {
		row := ""
		if e.Row > 0 {
			row = strconv.Itoa(e.Row)
		}
		msg := problem(e)
		if x := expectedText(e); x != "" {
			msg += ";应为:" + x
		}
		cw.Write([]string{row, e.Column, ingest.Excerpt(e.Value), msg})
	}
	return cw.Flush()
}

// meta reads the meta of id when it belongs to the bureau and has not
// expired.
func (c *checkedDir) meta(id, bureau string) (*checkedMeta, bool) {
	if !validID(id) {
		return nil, false
	}
	b, err := os.ReadFile(c.path(id, ".json"))
	if err != nil {
		return nil, false
	}
	var m checkedMeta
	if json.Unmarshal(b, &m) != nil || m.Bureau != bureau || c.now().Sub(m.Created) > CheckedExpiry {
		return nil, false
	}
	return &m, true
}

// file reads the checked file id of the session, for 提交.
func (c *checkedDir) file(id, bureau, sessionID string) (*checkedMeta, []byte, bool) {
	m, ok := c.meta(id, bureau)
	if !ok || m.Session != sessionKey(sessionID) {
		return nil, nil, false
	}
	data, err := os.ReadFile(c.path(id, ".file"))
	if err != nil {
		return nil, nil, false
	}
	return m, data, true
}

// errorsCSV opens the errors CSV id of the bureau.
func (c *checkedDir) errorsCSV(id, bureau string) (*checkedMeta, *os.File, bool) {
	m, ok := c.meta(id, bureau)
	if !ok {
		return nil, nil, false
	}
	f, err := os.Open(c.path(id, ".errors.csv"))
	if err != nil {
		return nil, nil, false
	}
	return m, f, true
}

// remove removes the files of id.
func (c *checkedDir) remove(id string) {
	if !validID(id) {
		return
	}
	for _, ext := range []string{".file", ".errors.csv", ".json"} {
		os.Remove(c.path(id, ext))
	}
}

// expire removes the files written more than CheckedExpiry ago (by their
// modification time on the machine's clock, so that whatever a stopped
// process left goes too; meta refuses an expired id on the workspace's
// clock before that).
func (c *checkedDir) expire() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-CheckedExpiry)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(c.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			continue
		}
	}
}

// errorKind is what kind of error e is, in Chinese (problem).
func errorKind(e *ingest.Error) string { return problem(e) }

// KindCount is how many errors of one kind a file has.
type KindCount struct {
	Kind  string
	Count int
}

// countKinds counts errs by kind, most frequent first (at most max kinds;
// the rest are counted as 其他).
func countKinds(errs []*ingest.Error, max int) []KindCount {
	n := map[string]int{}
	var order []string
	for _, e := range errs {
		k := errorKind(e)
		if n[k] == 0 {
			order = append(order, k)
		}
		n[k]++
	}
	out := make([]KindCount, len(order))
	for i, k := range order {
		out[i] = KindCount{k, n[k]}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	if len(out) > max {
		rest := 0
		for _, k := range out[max:] {
			rest += k.Count
		}
		out = append(out[:max], KindCount{fmt.Sprintf("其他 %d 种", len(out)-max), rest})
	}
	return out
}

// errorsFileName is the download name of a file's errors.
func errorsFileName(file string) string {
	base := strings.TrimSuffix(file, filepath.Ext(file))
	if base == "" {
		base = "文件"
	}
	return "错误清单-" + base + ".csv"
}
