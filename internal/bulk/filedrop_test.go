package bulk

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/ingest"
)

// TestFileDropFormats: with ingest.Open as the hook (as qualitymon
// import runs it), every input of the file drop's test cases — XLSX, the
// 国家统计局 export layout, GBK, bad cells — gives the rows or the errors
// that ingest.Open and Validator.ReadAll give.
func TestFileDropFormats(t *testing.T) {
	inputs, _ := filepath.Glob("../../collectors/filedrop/testdata/*/*")
	v := validatorT(t)
	open := func(file string, r io.Reader) (ingest.Source, error) {
		return ingest.Open(file, r, v.Catalog, v.Limits)
	}
	im, err := New(Options{Validator: v, DryRun: true, Parse: open})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		ext := strings.ToLower(filepath.Ext(in))
		if ext != ".csv" && ext != ".xlsx" {
			continue
		}
		n++
		t.Run(filepath.Base(filepath.Dir(in))+"/"+filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			name := "in" + ext
			got := pass1Named(t, im, name, data)
			if want := render(readAll(v, open, name, data)); got != want {
				t.Errorf("bulk:\n%s\nfiledrop:\n%s", got, want)
			}
		})
	}
	if n == 0 {
		t.Skip("no file drop test inputs")
	}
}
