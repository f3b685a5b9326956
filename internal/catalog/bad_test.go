package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/qualitymon/qualitymon/internal/golden"
)

func TestBadCatalogues(t *testing.T) {
	for f, want := range golden.Cases(t, 10, "testdata/*.bad.yaml") {
		data, _ := os.ReadFile(f)
		name := "catalogue/" + filepath.Base(f)
		_, err := Load(fstest.MapFS{name: &fstest.MapFile{Data: data}}, "catalogue")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got: %v\nwant: %s", f, err, want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s: error does not name the file: %v", f, err)
		}
	}
}

func TestResolve(t *testing.T) {
	c, err := Load(os.DirFS("../../targets"), "catalogue")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"food_sampling_pass_rate": "food_sampling_pass_rate",
		"食品安全抽检合格率":               "food_sampling_pass_rate",
		"食品抽检合格率":                 "food_sampling_pass_rate",
		" 食品 抽检合格率 ":              "food_sampling_pass_rate",
		"制造业质量竞争力指数":              "manufacturing_quality_competitiveness_index",
	} {
		ind, ok := c.Resolve(in)
		if !ok || ind.ID != want {
			t.Errorf("Resolve(%q) = %v, want %s", in, ind, want)
		}
	}
	if _, ok := c.Resolve("不存在的指标"); ok {
		t.Error("resolved an unknown name")
	}
}

func TestPublicationLag(t *testing.T) {
	c, err := Load(fstest.MapFS{"catalogue/c.yaml": &fstest.MapFile{Data: []byte(`indicators:
  - {id: a, name_zh: 甲, name_en: A, unit: percent, min: 0, max: 100, better: higher, frequency: yearly, kind: level}
  - {id: b, name_zh: 乙, name_en: B, unit: percent, min: 0, max: 100, better: higher, frequency: monthly, kind: level}
  - {id: c, name_zh: 丙, name_en: C, unit: percent, min: 0, max: 100, better: higher, frequency: yearly, kind: level, publication_lag: 150d}
  - {id: e, name_zh: 戊, name_en: E, unit: percent, min: 0, max: 100, better: higher, frequency: daily, kind: level, publication_lag: 36h}
  - {id: f, name_zh: 己, name_en: F, unit: percent, min: 0, max: 100, better: higher, frequency: yearly, kind: level, publication_lag: 0d}
`)}}, "catalogue")
	if err != nil {
		t.Fatal(err)
	}
	const day = 24 * time.Hour
	for id, want := range map[string]time.Duration{"a": 90 * day, "b": 20 * day, "c": 150 * day, "e": 36 * time.Hour, "f": 0} {
		ind, _ := c.Get(id)
		if got := ind.PublicationLag(); got != want {
			t.Errorf("%s: lag %v, want %v", id, got, want)
		}
	}
}
