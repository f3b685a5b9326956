package planextract

import (
	_ "embed"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/catalog"
)

// Resolution thresholds: a phrase resolves to the best catalogue name
// scoring at least Resolved; below Confident the draft is flagged.
const (
	Resolved  = 0.62
	Confident = 0.8
)

type entry struct {
	ind     *catalog.Indicator
	name    string
	grams   map[string]bool
	nrunes  int
	primary bool
}

type resolver struct{ entries []entry }

func newResolver(cat *catalog.Catalog) *resolver {
	r := &resolver{}
	if cat == nil {
		return r
	}
	for _, ind := range cat.All() {
		for i, n := range append([]string{ind.NameZh}, ind.Aliases...) {
			k := norm(n)
			if k == "" {
				continue
			}
			r.entries = append(r.entries, entry{ind: ind, name: k, grams: bigrams(k), nrunes: utf8.RuneCountInString(k), primary: i == 0})
		}
	}
	return r
}

// norm folds a phrase for comparison: no spaces, ASCII quotes and brackets
// dropped, and words that say where rather than what ("全省", "我市") gone.
func norm(s string) string {
	s = Normalize(s)
	s = strings.NewReplacer("“", "", "”", "", "\"", "", "(", "", ")", "", "《", "", "》", "", "数量指数2017年=100", "数量指数").Replace(s)
	for _, w := range []string{"全省", "全市", "全区", "我省", "我市", "我区", "本省", "本市", "全国"} {
		if strings.HasPrefix(s, w) && utf8.RuneCountInString(s) > 4 {
			s = strings.TrimPrefix(s, w)
		}
	}
	return strings.ToLower(s)
}

func bigrams(s string) map[string]bool {
	rs := []rune(s)
	g := map[string]bool{}
	if len(rs) == 1 {
		g[s] = true
	}
	for i := 0; i+1 < len(rs); i++ {
		g[string(rs[i:i+2])] = true
	}
	return g
}

// similarity of a phrase to a catalogue name, 0..1: 1 when equal, else the
// larger of the bigram Dice coefficient and a containment score.
func similarity(p string, pg map[string]bool, pn int, e *entry) float64 {
	if p == e.name {
		return 1
	}
	common := 0
	for g := range pg {
		if e.grams[g] {
			common++
		}
	}
	score := 0.0
	if len(pg)+len(e.grams) > 0 {
		score = 2 * float64(common) / float64(len(pg)+len(e.grams))
	}
	short, long, sn, ln := p, e.name, pn, e.nrunes
	if sn > ln {
		short, long, sn, ln = long, short, ln, sn
	}
	if sn >= 3 && strings.Contains(long, short) {
		if c := 0.55 + 0.4*float64(sn)/float64(ln); c > score {
			score = c
		}
	}
	return score
}

// candidate is a catalogue indicator with its score for a phrase.
type candidate struct {
	ind   *catalog.Indicator
	name  string
	score float64
}

// rank scores every indicator for a phrase; unit and kind, when known,
// weigh in (a percentage does not measure a count; additions are a flow).
func (r *resolver) rank(phrase, unit, modality string) []candidate {
	p := norm(phrase)
	if p == "" {
		return nil
	}
	pg, pn := bigrams(p), utf8.RuneCountInString(p)
	best := map[string]candidate{}
	for i := range r.entries {
		e := &r.entries[i]
		s := similarity(p, pg, pn, e)
		if s < 1 {
			if unit != "" && e.ind.Unit != unit && !(unit == "percent" && e.ind.Unit == "score") && !(unit == "" || e.ind.Unit == "index" && unit == "score") {
				s *= 0.8
			}
			if modality == "new" && e.ind.Kind != "flow" || (modality == "reach" || modality == "hold") && e.ind.Kind == "flow" && unit == "percent" {
				s *= 0.9
			}
		}
		if c, ok := best[e.ind.ID]; !ok || s > c.score {
			best[e.ind.ID] = candidate{ind: e.ind, name: e.name, score: s}
		}
	}
	out := make([]candidate, 0, len(best))
	for _, c := range best {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].ind.ID < out[j].ind.ID
	})
	return out
}

// best returns the best indicator for a phrase and its score.
func (r *resolver) best(phrase, unit, modality string) (*catalog.Indicator, float64) {
	c := r.rank(phrase, unit, modality)
	if len(c) == 0 {
		return nil, 0
	}
	return c[0].ind, c[0].score
}

// bestIn is best with the paragraph as context: between names that match
// the phrase equally, the one whose other words the paragraph uses wins
// ("团体标准" in a paragraph on agriculture is 农业团体标准).
func (r *resolver) bestIn(phrase, unit, modality, context string) (*catalog.Indicator, float64) {
	c := r.rank(phrase, unit, modality)
	if len(c) == 0 {
		return nil, 0
	}
	if c[0].score >= 1 || context == "" {
		return c[0].ind, c[0].score
	}
	pg := bigrams(norm(phrase))
	ctx := norm(context)
	best, bs := c[0], -1.0
	for _, k := range c {
		if k.score < c[0].score-0.05 {
			break
		}
		extra, hits := 0, 0.0
		for g := range bigrams(k.name) {
			if !pg[g] {
				extra++
				hits += min(float64(strings.Count(ctx, g)), 3) / 3
			}
		}
		s := k.score
		if extra > 0 {
			s += 0.06 * hits / float64(extra)
		}
		if s > bs {
			best, bs = k, s
		}
	}
	return best.ind, best.score
}

// exact reports whether a phrase is a catalogue name or alias.
func (r *resolver) exact(phrase string) bool {
	p := norm(phrase)
	for i := range r.entries {
		if r.entries[i].name == p {
			return true
		}
	}
	return false
}

// glossary turns the words of an unknown indicator phrase into a suggested
// id (longest word first); words it does not know are dropped. The words are
// data, in glossary.yaml.
var glossary = func() map[string]string {
	var g map[string]string
	if err := yaml.Unmarshal(glossaryYAML, &g); err != nil {
		panic("planextract: glossary.yaml: " + err.Error())
	}
	return g
}()

//go:embed glossary.yaml
var glossaryYAML []byte

var glossaryWords = func() []string {
	var w []string
	for k := range glossary {
		w = append(w, k)
	}
	sort.Slice(w, func(i, j int) bool {
		if len(w[i]) != len(w[j]) {
			return len(w[i]) > len(w[j])
		}
		return w[i] < w[j]
	})
	return w
}()

// suggestID makes a snake_case id from an indicator phrase.
func suggestID(phrase, modality string) string {
	var parts []string
	s := norm(phrase)
	for len(s) > 0 {
		matched := false
		for _, w := range glossaryWords {
			if strings.HasPrefix(strings.ToLower(s), strings.ToLower(w)) {
				if len(parts) == 0 || parts[len(parts)-1] != glossary[w] {
					parts = append(parts, glossary[w])
				}
				s = s[len(w):]
				matched = true
				break
			}
		}
		if !matched {
			_, n := utf8.DecodeRuneInString(s)
			s = s[n:]
		}
	}
	id := strings.Join(parts, "_")
	if id == "" {
		id = "indicator"
	}
	if modality == "new" && !strings.HasSuffix(id, "_new") {
		id += "_new"
	}
	if len(id) > 60 {
		id = id[:60]
		id = strings.TrimRight(id, "_")
	}
	return id
}
