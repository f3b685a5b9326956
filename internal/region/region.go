// Package region holds the GB/T 2260 administrative division table — 全国,
// the provinces, the prefectures and the county-level divisions, and the
// abolished codes with their successors — and resolves codes and names
// (with or without 省/市/自治区 suffixes) to regions. A name that fits two
// divisions of the same level (鼓楼区 in 南京, 徐州, 福州 and 开封) is not
// guessed: Lookup answers an *AmbiguousError naming every candidate.
package region

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// Level of an administrative division.
const (
	Province   = "province"
	Prefecture = "prefecture"
	County     = "county"
)

// levels in the order names are matched: a name a province and a
// prefecture share is the province's ("吉林"), one a prefecture and a county
// share is the prefecture's ("朝阳": 朝阳市, not 朝阳区 or 朝阳县).
var levels = []string{Province, Prefecture, County}

// Region is one division.
type Region struct {
	Code  string `yaml:"code" json:"code"`
	Name  string `yaml:"name" json:"name"`
	Short string `yaml:"short" json:"short"`
	Level string `yaml:"level" json:"level"`
	// Parent is the code of the division above: for a county its
	// prefecture, or its province where it has none (the districts of
	// 北京, 省直辖县级行政区划 such as 济源 or 仙桃). Empty for a province; for
	// a prefecture it may be left out (the code's first two digits).
	Parent string `yaml:"parent,omitempty" json:"parent,omitempty"`
	// Abolished is the year the code went out of use; such a code names no
	// current region (Get, Resolve and Lookup do not return it).
	Abolished int `yaml:"abolished,omitempty" json:"abolished,omitempty"`
	// Successor is the current division an abolished one went into, where
	// there is one.
	Successor string `yaml:"successor,omitempty" json:"successor,omitempty"`
}

// ParentCode is the code of the division above ("" for a province).
func (r *Region) ParentCode() string {
	switch {
	case r.Level == Province:
		return ""
	case r.Parent != "":
		return r.Parent
	}
	return r.Code[:2] + "0000"
}

// nameEntry is what a name resolves to: the regions of the best rank (pass
// × level) that answer it.
type nameEntry struct {
	rank int
	rs   []*Region
}

// Table is the loaded region table.
type Table struct {
	list   []*Region // current divisions, by code
	byCode map[string]*Region
	gone   map[string]*Region // abolished codes
	// byName maps every name a current region answers to onto its
	// candidates: one, or several of the same level (ambiguous).
	byName   map[string]nameEntry
	goneName map[string]*Region
	children map[string][]*Region // county-level divisions by parent
}

var codePattern = regexp.MustCompile(`^[1-8][0-9]{5}$`)

// suffixes are stripped, longest first, to match names written without them.
var suffixes = []string{"特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "盟"}

// Load reads the table from a YAML file and the county-level file it names
// (counties:, a path beside it): tab-separated code, name, short name and
// parent, one division a line, # comments. The county file is generated
// (internal/region/regionsgen) and plain text because it is long: it loads in
// a fraction of the time YAML would take, at every start.
func Load(fsys fs.FS, name string) (*Table, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var f struct {
		Counties string    `yaml:"counties"`
		Regions  []*Region `yaml:"regions"`
	}
	if err := yamlfile.Decode(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.Counties != "" {
		file := path.Join(path.Dir(name), f.Counties)
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("%s: counties: %w", name, err)
		}
		counties, err := ParseCounties(file, data)
		if err != nil {
			return nil, err
		}
		f.Regions = append(f.Regions, counties...)
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

// countyColumns are the columns of the county file.
var countyColumns = []string{"code", "name", "short", "parent"}

// ParseCounties reads the county file: a header line naming the columns,
// then one county-level division a line.
func ParseCounties(file string, data []byte) ([]*Region, error) {
	var out []*Region
	header := false
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cells := strings.Split(line, "\t")
		if !header {
			if strings.Join(cells, ",") != strings.Join(countyColumns, ",") {
				return nil, fmt.Errorf("%s:%d: header must be %s", file, i+1, strings.Join(countyColumns, "<TAB>"))
			}
			header = true
			continue
		}
		if len(cells) != len(countyColumns) {
			return nil, fmt.Errorf("%s:%d: %d columns, want %d (%s)", file, i+1, len(cells), len(countyColumns), strings.Join(countyColumns, ", "))
		}
		out = append(out, &Region{Code: cells[0], Name: cells[1], Short: cells[2], Level: County, Parent: cells[3]})
	}
	return out, nil
}

// WriteCounties writes county-level divisions as ParseCounties reads them,
// after the comment lines given.
func WriteCounties(w io.Writer, comment []string, counties []*Region) error {
	var b strings.Builder
	for _, c := range comment {
		b.WriteString("# " + c + "\n")
	}
	b.WriteString(strings.Join(countyColumns, "\t") + "\n")
	for _, r := range counties {
		for _, s := range []string{r.Code, r.Name, r.Short, r.Parent} {
			if strings.ContainsAny(s, "\t\r\n") {
				return fmt.Errorf("region %s: %q holds a tab or line break", r.Code, s)
			}
		}
		b.WriteString(r.Code + "\t" + r.Name + "\t" + r.Short + "\t" + r.Parent + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// New builds a table from regions given in code (tests, benchmarks).
func New(regions ...*Region) (*Table, error) {
	t, errs := build(regions)
	return t, errors.Join(errs...)
}

func build(regions []*Region) (*Table, []error) {
	n := len(regions)
	t := &Table{byCode: make(map[string]*Region, n), gone: map[string]*Region{}, byName: make(map[string]nameEntry, 4*n),
		goneName: map[string]*Region{}, children: map[string][]*Region{}}
	var errs []error
	for _, r := range regions {
		switch {
		case !codePattern.MatchString(r.Code):
			errs = append(errs, fmt.Errorf("region %q: code must be six digits", r.Code))
			continue
		case t.byCode[r.Code] != nil || t.gone[r.Code] != nil:
			errs = append(errs, fmt.Errorf("region %q: duplicate code", r.Code))
			continue
		case r.Level != Province && r.Level != Prefecture && r.Level != County:
			errs = append(errs, fmt.Errorf("region %q: level must be province, prefecture or county, not %q", r.Code, r.Level))
			continue
		case r.Name == "":
			errs = append(errs, fmt.Errorf("region %q: name required", r.Code))
			continue
		case r.Level == County && r.Parent == "":
			errs = append(errs, fmt.Errorf("region %q: a county needs its parent", r.Code))
			continue
		case r.Successor != "" && r.Abolished == 0:
			errs = append(errs, fmt.Errorf("region %q: successor given but not abolished", r.Code))
			continue
		}
		if r.Abolished != 0 {
			t.gone[r.Code] = r
			continue
		}
		t.byCode[r.Code] = r
		t.list = append(t.list, r)
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Code < t.list[j].Code })
	for _, r := range t.list {
		p := r.ParentCode()
		if p == "" {
			continue
		}
		pr := t.byCode[p]
		switch {
		case pr == nil:
			errs = append(errs, fmt.Errorf("region %q: no parent %q", r.Code, p))
		case r.Level == Prefecture && pr.Level != Province:
			errs = append(errs, fmt.Errorf("region %q: a prefecture's parent %q must be a province", r.Code, p))
		case r.Level == County && pr.Level == County:
			errs = append(errs, fmt.Errorf("region %q: a county's parent %q must be a province or prefecture", r.Code, p))
		case p[:2] != r.Code[:2]:
			errs = append(errs, fmt.Errorf("region %q: parent %q is in another province", r.Code, p))
		}
		if r.Level == County {
			t.children[p] = append(t.children[p], r)
		}
	}
	for _, r := range t.gone {
		if r.Successor == "" {
			continue
		}
		if _, ok := t.byCode[r.Successor]; !ok {
			errs = append(errs, fmt.Errorf("region %q: successor %q is not a current region", r.Code, r.Successor))
		}
	}
	// Full names win over short names; a higher level over a lower one.
	// Within one pass and level a name is ambiguous when several answer it.
	passes := []func(*Region) []string{
		func(r *Region) []string {
			if r.Level != County {
				return []string{r.Name}
			}
			// With its parents, as the ambiguity error asks: 长春市朝阳区, 吉林省长春市朝阳区.
			names := []string{r.Name, t.Path(r)}
			if p, ok := t.byCode[r.ParentCode()]; ok {
				names = append(names, p.Name+r.Name)
			}
			return names
		},
		func(r *Region) []string { return []string{r.Short, stripSuffix(r.Name)} },
	}
	for pass, names := range passes {
		for _, r := range t.list {
			rank := pass*len(levels) + slices.Index(levels, r.Level)
			for _, n := range names(r) {
				e, ok := t.byName[n]
				switch {
				case n == "":
				case !ok || rank < e.rank:
					t.byName[n] = nameEntry{rank: rank, rs: []*Region{r}}
				case rank == e.rank && !slices.Contains(e.rs, r):
					e.rs = append(e.rs, r)
					t.byName[n] = e
				}
			}
		}
	}
	for _, r := range t.gone {
		for _, n := range []string{r.Name, r.Short, stripSuffix(r.Name)} {
			if _, taken := t.byName[n]; n != "" && !taken {
				t.goneName[n] = r
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

// Get returns the current region with the code.
func (t *Table) Get(code string) (*Region, bool) {
	r, ok := t.byCode[code]
	return r, ok
}

// Abolished returns the abolished division with the code.
func (t *Table) Abolished(code string) (*Region, bool) {
	r, ok := t.gone[code]
	return r, ok
}

// Resolve finds a region by code, full name, short name, or name without its
// suffix ("山东", "山东省", "青岛", "青岛市", "370200", "胶州市", "胶州"), a
// county also by its name after its parents' ("长春市朝阳区", "吉林省长春市朝阳区"). An
// ambiguous or abolished name finds none: Lookup says why.
func (t *Table) Resolve(s string) (*Region, bool) {
	r, err := t.Lookup(s)
	return r, err == nil
}

// Lookup is Resolve with the reason when nothing is found: an
// *AmbiguousError when the name fits several divisions, an *AbolishedError
// for a code or name no longer in use, ErrUnknown otherwise.
func (t *Table) Lookup(s string) (*Region, error) {
	s = strings.Join(strings.Fields(s), "")
	if r, ok := t.byCode[s]; ok {
		return r, nil
	}
	if r, ok := t.gone[s]; ok {
		return nil, t.abolished(s, r)
	}
	for _, n := range []string{s, stripSuffix(s)} {
		switch rs := t.byName[n].rs; len(rs) {
		case 0:
		case 1:
			return rs[0], nil
		default:
			return nil, &AmbiguousError{Name: s, Candidates: rs, table: t}
		}
		if r, ok := t.goneName[n]; ok {
			return nil, t.abolished(s, r)
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknown, s)
}

// ErrUnknown is a code or name the table does not hold.
var ErrUnknown = errors.New("unknown region")

// AmbiguousError is a name several divisions of one level answer to.
type AmbiguousError struct {
	Name       string
	Candidates []*Region
	table      *Table
}

func (e *AmbiguousError) Error() string {
	parts := make([]string, len(e.Candidates))
	for i, r := range e.Candidates {
		parts[i] = r.Code + " " + e.table.Path(r)
	}
	return fmt.Sprintf("地区名称 %q 不唯一 (ambiguous region), 可指 %s;请填写地区代码或带上级的名称(如 %s)", e.Name, strings.Join(parts, "、"), e.table.Path(e.Candidates[0]))
}

// AbolishedError is a code or name of a division no longer in use.
type AbolishedError struct {
	Given     string
	Region    *Region
	Successor *Region // nil when none is known
}

func (e *AbolishedError) Error() string {
	msg := fmt.Sprintf("地区 %q (%s %s) 已于 %d 年撤销 (abolished)", e.Given, e.Region.Code, e.Region.Name, e.Region.Abolished)
	if e.Successor != nil {
		msg += fmt.Sprintf(",现为 %s %s", e.Successor.Code, e.Successor.Name)
	}
	return msg
}

func (t *Table) abolished(given string, r *Region) error {
	e := &AbolishedError{Given: given, Region: r}
	if s, ok := t.byCode[r.Successor]; ok {
		e.Successor = s
	}
	return e
}

// Path names a region with the divisions above it, as bureaus write it:
// "吉林省长春市朝阳区", "北京市朝阳区", "山东省".
func (t *Table) Path(r *Region) string {
	name := r.Name
	for p := r.ParentCode(); p != ""; {
		pr, ok := t.byCode[p]
		if !ok {
			break
		}
		name = pr.Name + name
		p = pr.ParentCode()
	}
	return name
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

// Counties lists the county-level divisions directly under a prefecture,
// or directly under a province (municipalities' districts, 省直辖县级行政区划),
// by code.
func (t *Table) Counties(parent string) []*Region { return t.children[parent] }

// Within lists every county-level division within a province or
// prefecture: directly under it, or under its prefectures. By code.
func (t *Table) Within(code string) []*Region {
	out := append([]*Region(nil), t.children[code]...)
	for _, p := range t.Children(code) {
		out = append(out, t.children[p.Code]...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Unknown says why a code names no current region, for errors: abolished
// (with the successor) or unknown.
func (t *Table) Unknown(code string) string {
	if r, ok := t.gone[code]; ok {
		return t.abolished(code, r).Error()
	}
	return fmt.Sprintf("unknown region code %q", code)
}

// All returns every current region sorted by code.
func (t *Table) All() []*Region { return t.list }
