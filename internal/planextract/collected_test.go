package planextract

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type labelled struct {
	Phrase   string  `yaml:"phrase"`
	Value    float64 `yaml:"value"`
	Deadline int     `yaml:"deadline"`
}

// Texts collected as a user would bring them, labelled by hand before the
// extractor first ran on them (testdata/collected/README.md). Reported, not
// asserted: recall of value and deadline, and the drafts that match no
// labelled target (false positives). Indicator recall is not measured: most
// of their indicators are not in the catalogue.
func TestCollectedRecall(t *testing.T) {
	set := shippedSet(t)
	data, err := os.ReadFile(filepath.Join("testdata", "collected", "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]labelled
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	files := make([]string, 0, len(want))
	for f := range want {
		files = append(files, f)
	}
	sort.Strings(files)
	var total, value, deadline, drafts, fp, resolved int
	for _, f := range files {
		res := extractFile(t, filepath.Join("testdata", "collected", f), Options{Catalog: set.Catalog, Regions: set.Regions})
		used := make([]bool, len(res.Drafts))
		v, dl := 0, 0
		for _, l := range want[f] {
			hit := -1
			for j, d := range res.Drafts {
				if used[j] {
					continue
				}
				if sameValue(d, l.Value) || d.Increment != nil && abs(*d.Increment-l.Value) < 1e-6 {
					hit = j
					break
				}
			}
			if hit < 0 {
				t.Logf("  %s missed: %s %v", f, l.Phrase, l.Value)
				continue
			}
			used[hit] = true
			v++
			if d := res.Drafts[hit]; d.Deadline != nil && *d.Deadline == l.Deadline {
				dl++
			} else {
				t.Logf("  %s deadline: %s", f, l.Phrase)
			}
		}
		extra := 0
		for j, d := range res.Drafts {
			if d.Indicator != nil {
				resolved++
			}
			if !used[j] {
				extra++
				t.Logf("  %s false positive: %s = %s (%s)", f, d.NameZh, numPtr(d.Value), d.Quote)
			}
		}
		t.Logf("%s: %d labelled, value %d, deadline %d; %d drafts, %d false positives", f, len(want[f]), v, dl, len(res.Drafts), extra)
		total += len(want[f])
		value += v
		deadline += dl
		drafts += len(res.Drafts)
		fp += extra
	}
	summary := fmt.Sprintf("collected texts: %d labelled targets: value %d (%.1f%%), deadline %d (%.1f%%); %d drafts (%d resolved to a catalogue indicator), %d false positives",
		total, value, pct(value, total), deadline, pct(deadline, total), drafts, resolved, fp)
	t.Log(summary)
	fmt.Fprintln(os.Stderr, strings.TrimSpace(summary))
}
