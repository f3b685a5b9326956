package workspace

import (
	"bytes"
	"net/http"
	"sort"
	"strings"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/upload"
	"github.com/qualitymon/qualitymon/internal/web/shell"
)

// Data entry in the browser (网页填报): the due grid is a form whose cells
// still owed have a value and a note field, named entryValue/entryNote +
// the cell's key. 校验 and 提交 turn the filled cells into a CSV in
// memory (指标,地区,时期,数值,备注) and send it through exactly the path
// of a chosen file (answer: the upload API's scope, limits, pipeline,
// plausibility warnings, review and audit, the audit line saying 网页填报).
const (
	entryValue = "v|"
	entryNote  = "n|"
	// entryName is the name of the CSV made from the grid.
	entryName = "网页填报.csv"
	// maxEntries bounds the cells one form may fill (the form's body is
	// bounded too: form reads at most 64 KiB).
	maxEntries = 2000
)

// entryKey is a due cell's key in the form: indicator|region|period.
func entryKey(indicator, region, period string) string {
	return indicator + "|" + region + "|" + period
}

func (w *Workspace) entryCheck(rw http.ResponseWriter, r *http.Request) error {
	return w.entry(rw, r, true)
}

func (w *Workspace) entrySubmit(rw http.ResponseWriter, r *http.Request) error {
	return w.entry(rw, r, false)
}

// entry sends the figures typed into the due grid.
func (w *Workspace) entry(rw http.ResponseWriter, r *http.Request, dryRun bool) error {
	data, n, err := entryCSV(r)
	if err != nil {
		return err
	}
	if n == 0 {
		return shell.BadRequest("没有填写任何数值。请在“报送情况”表中需要报送的各期填写数值后再校验或提交。")
	}
	return w.answer(rw, r, sent{name: entryName, contentType: upload.TypeCSV, data: data, via: upload.ViaEntry}, dryRun)
}

// entryCSV is the CSV of the form's filled cells (a value, or a note
// alone: the pipeline then says the value is missing), in the order of
// their keys, and how many rows it has.
func entryCSV(r *http.Request) ([]byte, int, error) {
	type row struct{ key, value, note string }
	rows := map[string]*row{}
	for name, vals := range r.PostForm {
		var key string
		var isNote bool
		switch {
		case strings.HasPrefix(name, entryValue):
			key = strings.TrimPrefix(name, entryValue)
		case strings.HasPrefix(name, entryNote):
			key, isNote = strings.TrimPrefix(name, entryNote), true
		default:
			continue
		}
		v := strings.TrimSpace(strings.Join(vals, ""))
		if v == "" {
			continue
		}
		if strings.Count(key, "|") != 2 {
			return nil, 0, shell.BadRequest("表单无法读取:字段 %q 不是报送情况表中的一格。请回到报送工作台重新填写。", ingest.Excerpt(name))
		}
		rw := rows[key]
		if rw == nil {
			if len(rows) == maxEntries {
				return nil, 0, shell.BadRequest("一次最多填报 %d 项数据;更多的数据请用模板文件上传。", maxEntries)
			}
			rw = &row{key: key}
			rows[key] = rw
		}
		if isNote {
			rw.note = v
		} else {
			rw.value = v
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	cw, err := ingest.NewCSVWriter(&b, false)
	if err != nil {
		return nil, 0, err
	}
	cw.Write([]string{"指标", "地区", "时期", "数值", "备注"})
	for _, k := range keys {
		f := strings.SplitN(k, "|", 3)
		cw.Write([]string{f[0], f[1], f[2], rows[k].value, rows[k].note})
	}
	if err := cw.Flush(); err != nil {
		return nil, 0, err
	}
	return b.Bytes(), len(keys), nil
}
