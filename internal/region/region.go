// Package region holds the GB/T 2260 administrative division table and
// resolves codes and names (with or without 省/市/自治区 suffixes) to regions.
package region

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// Level of an administrative division.
const (
	Province   = "province"
	Prefecture = "prefecture"
)

// Region is one division.
type Region struct {
	Code  string `yaml:"code" json:"code"`
	Name  string `yaml:"name" json:"name"`
	Short string `yaml:"short" json:"short"`
	Level string `yaml:"level" json:"level"`
}

// ParentCode is the code of the province a prefecture belongs to ("" for a province).
func (r *Region) ParentCode() string {
	if r.Level == Province {
		return ""
	}
	return r.Code[:2] + "0000"
}

// Table is the loaded region table.
type Table struct {
	list   []*Region
	byCode map[string]*Region
	byName map[string]*Region
}

var codePattern = regexp.MustCompile(`^[1-8][0-9]{5}$`)

// suffixes are stripped, longest first, to match names written without them.
var suffixes = []string{"特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "盟"}

// Load reads the table from a YAML file.
func Load(fsys fs.FS, name string) (*Table, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var f struct {
		Regions []*Region `yaml:"regions"`
	}
	if err := yamlfile.Decode(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t, errs := build(f.Regions)
	for i := range errs {
		errs[i] = fmt.Errorf("%s: %w", name, errs[i])
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// New builds a table from regions given in code (tests, benchmarks).
func New(regions ...*Region) (*Table, error) {
	t, errs := build(regions)
	return t, errors.Join(errs...)
}

func build(regions []*Region) (*Table, []error) {
	t := &Table{byCode: map[string]*Region{}, byName: map[string]*Region{}}
	var errs []error
	for _, r := range regions {
		switch {
		case !codePattern.MatchString(r.Code):
			errs = append(errs, fmt.Errorf("region %q: code must be six digits", r.Code))
			continue
		case t.byCode[r.Code] != nil:
			errs = append(errs, fmt.Errorf("region %q: duplicate code", r.Code))
			continue
		case r.Level != Province && r.Level != Prefecture:
			errs = append(errs, fmt.Errorf("region %q: level must be province or prefecture, not %q", r.Code, r.Level))
			continue
		case r.Name == "":
			errs = append(errs, fmt.Errorf("region %q: name required", r.Code))
			continue
		}
		t.byCode[r.Code] = r
		t.list = append(t.list, r)
	}
	for _, r := range t.list {
		if p := r.ParentCode(); p != "" && t.byCode[p] == nil {
			errs = append(errs, fmt.Errorf("region %q: no province %q", r.Code, p))
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Code < t.list[j].Code })
	// Full names win over short names; provinces over prefectures on a clash.
	for _, pass := range []func(*Region) []string{
		func(r *Region) []string { return []string{r.Name} },
		func(r *Region) []string { return []string{r.Short, stripSuffix(r.Name)} },
	} {
		for _, level := range []string{Province, Prefecture} {
			for _, r := range t.list {
				if r.Level != level {
					continue
				}
				for _, n := range pass(r) {
					if n != "" && t.byName[n] == nil {
						t.byName[n] = r
					}
				}
			}
		}
	}
	return t, errs
}

func stripSuffix(name string) string {
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) && len(name) > len(s) {
			return strings.TrimSuffix(name, s)
		}
	}
	return name
}

// Get returns the region with the code.
func (t *Table) Get(code string) (*Region, bool) {
	r, ok := t.byCode[code]
	return r, ok
}

// Resolve finds a region by code, full name, short name, or name without its
// suffix ("山东", "山东省", "青岛", "青岛市", "370200").
func (t *Table) Resolve(s string) (*Region, bool) {
	s = strings.Join(strings.Fields(s), "")
	if r, ok := t.byCode[s]; ok {
		return r, true
	}
	if r, ok := t.byName[s]; ok {
		return r, true
	}
	r, ok := t.byName[stripSuffix(s)]
	return r, ok
}

// Children lists the prefecture-level divisions of a province, by code.
func (t *Table) Children(province string) []*Region {
	var out []*Region
	for _, r := range t.list {
		if r.Level == Prefecture && r.ParentCode() == province {
			out = append(out, r)
		}
	}
	return out
}

// All returns every region sorted by code.
func (t *Table) All() []*Region { return t.list }
