package workspace

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"unicode"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestBureauWordsForRefusedFigures: the errors of ambiguous numbers,
// control characters and mixed encodings, as the pipeline gives them, read
// in Chinese in the workspace (problem and expected).
func TestBureauWordsForRefusedFigures(t *testing.T) {
	cat, regs := testenv.Targets(t)
	v := &ingest.Validator{Catalog: cat, Regions: regs}
	gbk := testenv.GBK(t, "food_sampling_pass_rate,370200,2019,96,青岛\n")
	head := "indicator,region,period,value,source\n"
	for name, in := range map[string][]byte{
		"comma":   []byte(head + "food_sampling_pass_rate,370000,2019,\"1.234,5\",\n"),
		"nul":     []byte(head + "food_sampling_pass_rate,370000,2019,96,\"a\x00\"\n"),
		"mixed":   append([]byte(head+"food_sampling_pass_rate,370000,2019,96,山东\n"), gbk...),
		"neither": []byte(head + "food_sampling_pass_rate,370000,2019,96,\xff\n"),
	} {
		var err error
		src, err := ingest.Open("f.csv", bytes.NewReader(in), cat, ingest.Limits{})
		if err == nil {
			_, err = v.ReadAll(src)
		}
		var es ingest.Errors
		var e *ingest.Error
		switch {
		case errors.As(err, &es):
			e = es[0]
		case errors.As(err, &e):
		default:
			t.Fatalf("%s: %v", name, err)
		}
		p, x := problem(e), expectedText(e)
		if !han(p) || !han(x) || english(p) || english(x) {
			t.Errorf("%s: %q / %q not in Chinese", name, p, x)
		}
	}
}

// latinWord is a word in Latin letters; formatWords are the names of file
// formats and programs a Chinese sentence may use.
var (
	latinWord   = regexp.MustCompile(`[A-Za-z][A-Za-z0-9]+`)
	formatWords = map[string]bool{"UTF": true, "GBK": true, "CSV": true, "Excel": true, "WPS": true, "LibreOffice": true, "xlsx": true, "U": true, "FFFD": true}
)

// english says whether s has a word in Latin letters other than a format's
// name.
func english(s string) bool {
	for _, w := range latinWord.FindAllString(s, -1) {
		if !formatWords[w] {
			return true
		}
	}
	return false
}

func han(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestBureauWordsForScope: a row outside the bureau's scope is named in
// Chinese with its region (or indicator), without the pipeline's English.
func TestBureauWordsForScope(t *testing.T) {
	cat, regs := testenv.Targets(t)
	v := &ingest.Validator{Catalog: cat, Regions: regs, Scope: &ingest.Scope{Who: "青岛市统计局", Regions: map[string]bool{"370200": true}}}
	_, errs := v.Row(&ingest.Raw{File: "f.csv", Row: 2, Cells: map[string]string{ingest.ColIndicator: "food_sampling_pass_rate",
		ingest.ColRegion: "370100", ingest.ColPeriod: "2019", ingest.ColValue: "96"}})
	if len(errs) != 1 || !errs[0].OutOfScope {
		t.Fatalf("errors %v, want one outside the scope", errs)
	}
	if p := problem(errs[0]); p != "超出本单位报送范围:地区 370100 济南市" {
		t.Errorf("problem %q", p)
	}
}
