package planextract

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// emit resolves a draft's indicator from phrase (its NameZh when empty),
// fills what follows from it and appends it to the sentence's targets.
func (st *sentence) emit(d *Draft, phrase string) {
	x := st.x
	d.NameZh = cleanSubject(d.NameZh)
	if phrase == "" {
		phrase = d.NameZh
	}
	phrase = cleanSubject(phrase)
	if codes, rest := x.regionPrefix(phrase); len(codes) > 0 && !x.res.exact(phrase) && hasTail(rest) {
		d.Regions, phrase = codes, rest
	}
	d.measure = phrase
	if d.NameZh == "" && phrase == "" {
		return
	}
	ind, score := x.res.bestIn(phrase, d.Unit, d.Modality, x.context)
	if ind != nil && d.explicitNew && ind.Kind == "level" {
		// "新建…50项" counts new items: a stock indicator cannot judge it
		d.flag(FlagUnresolved, fmt.Sprintf("%q counts new items (%s); %s (%s) is a level, so a flow indicator is needed", phrase, d.Quote, ind.ID, ind.NameZh))
		ind, score = nil, 0
		d.Suggested = suggestID(phrase, "new")
	}
	d.Match = round2(score)
	if ind != nil && score >= Resolved {
		id := ind.ID
		d.Indicator = &id
		if score < Confident {
			d.flag(FlagWeakMatch, fmt.Sprintf("%q matched %s (%s) only at %.2f: check the indicator", phrase, ind.ID, ind.NameZh, score))
		}
		if d.Unit == "" || (d.Unit != ind.Unit && !(d.Unit == "percent" && ind.Unit == "score")) {
			if d.Unit != "" && d.Unit != ind.Unit {
				d.flag(FlagUnit, fmt.Sprintf("the text gives %s, indicator %s is in %s", d.Unit, ind.ID, ind.Unit))
			}
			d.Unit = ind.Unit
		}
		switch {
		case d.Modality == "new" && ind.Kind == "level":
			d.Modality = "reach"
		case d.Modality == "reach" && ind.Kind == "flow" && !d.Cumulative:
			d.Modality = "new"
		}
		if !ind.HigherIsBetter() && d.Comparator == ">=" {
			d.Comparator = "<="
		}
	} else if d.Suggested == "" {
		d.Suggested = suggestID(phrase, d.Modality)
		d.flag(FlagUnresolved, fmt.Sprintf("no catalogue indicator matches %q (best %.2f): add one, e.g. %s", phrase, score, d.Suggested))
	}
	if d.Unit == "" {
		switch {
		case strings.HasSuffix(phrase, "指数"):
			d.Unit = "index"
		case strings.HasSuffix(phrase, "满意度"):
			d.Unit = "score"
		default:
			d.flag(FlagUnit, "no unit in the text and none from the catalogue")
		}
	}
	if d.Unit == "percent" && d.Value != nil && *d.Value > 100 && d.Increment == nil {
		sug := *d.Value
		for k := 0; sug > 100 && k < 20; k++ {
			sug /= 10
		}
		if c := d.Corrected(); c != nil && *c <= 100 {
			sug = *c
		}
		d.Flags = append(d.Flags, Flag{Code: FlagOver100, Field: "value", Suggested: &sug,
			Reason: fmt.Sprintf("%v%% is over 100%%: a decimal point may be lost (%v%%)", trimFloat(*d.Value), trimFloat(sug))})
	}
	if d.Deadline == nil {
		if x.opt.Horizon > 0 {
			h := x.opt.Horizon
			d.Deadline, d.DeadlineBy = &h, "horizon"
			d.flag(FlagHorizon, fmt.Sprintf("no year in the text: the plan horizon %d is assumed", h))
		} else {
			d.flag(FlagNoDeadline, "no year in the text (give --horizon, or leave the deadline out after review)")
		}
	}
	if d.Modality == "quota" && d.Value != nil {
		end := 0
		if d.Deadline != nil {
			end = *d.Deadline
		}
		if x.opt.Start > 0 && end >= x.opt.Start {
			d.Quotas = map[int]float64{}
			for y := x.opt.Start; y <= end; y++ {
				d.Quotas[y] = *d.Value
			}
		}
	}
	for _, f := range d.Flags {
		if f.Code == FlagPrivateChar && d.Printed == "" {
			d.Printed = privatePrinted(d.Quote)
		}
	}
	st.out = append(st.out, d)
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

var rePrintedPUA = regexp.MustCompile(`[0-9]+[\x{E000}-\x{F8FF}][0-9]+%?`)

func privatePrinted(quote string) string { return rePrintedPUA.FindString(quote) }

// splitList splits a reach subject "A、B" into targets when the whole is not
// one catalogue name and every part names a measure of its own
// ("水利工程质量合格率、质量检测抽检率", "药品、医疗器械全覆盖抽检合格率").
func (x *extractor) splitList(subject string) []string {
	parts := splitOutside(subject, "、")
	if len(parts) < 2 || x.res.exact(subject) {
		return []string{subject}
	}
	// "药品、医疗器械及化妆品评价性抽检合格率": a series closed by its own
	// conjunction before one measure names one combined measure.
	if last := parts[len(parts)-1]; !hasTail(parts[0]) && strings.ContainsAny(cutTail(last), "及和与") {
		return []string{subject}
	}
	allTail := true
	for _, p := range parts {
		if !hasTail(p) {
			allTail = false
		}
	}
	if allTail {
		return parts
	}
	if !hasTail(parts[len(parts)-1]) {
		return []string{subject}
	}
	for _, p := range parts[:len(parts)-1] {
		if !x.res.exact(x.inherit(p, parts[len(parts)-1])) {
			return []string{subject}
		}
	}
	return parts
}

// cutTail is a phrase without its measure words ("化妆品评价性抽检合格率" → "化妆品评价性").
func cutTail(s string) string {
	for _, w := range tailWords {
		if i := strings.Index(s, w); i > 0 {
			return s[:i]
		}
	}
	return s
}

// inherit completes a part that names no measure with the measure of the
// last part: "生产性服务业" + "生活性服务业顾客满意度" → "生产性服务业顾客满意度".
func (x *extractor) inherit(part, last string) string {
	if hasTail(part) {
		return part
	}
	var cands []string
	for _, w := range tailWords {
		if i := strings.Index(last, w); i > 0 {
			cands = append(cands, part+last[i:])
		}
	}
	if len(cands) == 0 {
		return part
	}
	sort.SliceStable(cands, func(i, j int) bool { return len(cands[i]) > len(cands[j]) })
	best, bs := cands[0], -1.0
	for _, c := range cands {
		if _, s := x.res.best(c, "", ""); s > bs+1e-9 {
			best, bs = c, s
		}
	}
	return best
}

// regionPrefix finds region names at the start of a phrase ("济南、青岛市装配式…"):
// two or more, or one full name followed by the measure.
func (x *extractor) regionPrefix(phrase string) ([]string, string) {
	if x.opt.Regions == nil {
		return nil, phrase
	}
	var codes []string
	rest := phrase
	full := false
	for {
		r, n, isFull := x.regionAt(rest)
		if r == "" {
			break
		}
		codes = append(codes, r)
		full = isFull
		rest = rest[n:]
		if strings.HasPrefix(rest, "、") {
			rest = rest[len("、"):]
			continue
		}
		if strings.HasPrefix(rest, "和") {
			rest = rest[len("和"):]
			continue
		}
		break
	}
	if len(codes) >= 2 || (len(codes) == 1 && full && utf8.RuneCountInString(rest) >= 4) {
		return codes, rest
	}
	return nil, phrase
}

// regionAt matches the longest region name at the start of s.
func (x *extractor) regionAt(s string) (code string, n int, full bool) {
	for _, r := range x.opt.Regions.All() {
		for _, name := range []string{r.Name, r.Short} {
			if utf8.RuneCountInString(name) < 2 || !strings.HasPrefix(s, name) || len(name) <= n {
				continue
			}
			code, n, full = r.Code, len(name), name == r.Name
			if !full && strings.HasPrefix(s[n:], "市") {
				n += len("市")
				full = true
			}
		}
	}
	return code, n, full
}

// doubling: "地理标志保护产品数量翻一番" → twice the figure of the year before
// the plan (multiple_of).
func (st *sentence) doubling(body, quote string, deadline int, by string, strive bool) {
	i := strings.Index(body, "翻")
	subject := cleanSubject(body[:i])
	d := &Draft{NameZh: subject, Comparator: ">=", Modality: "reach", Strive: strive,
		Quote: quoteOf(st.text, quote), MultipleOf: &MultipleOf{Factor: 2}}
	if strings.Contains(body, "两番") {
		d.MultipleOf.Factor = 4
	}
	if st.x.opt.Start > 0 {
		d.MultipleOf.Year = st.x.opt.Start - 1
	}
	if deadline > 0 {
		d.Deadline, d.DeadlineBy = &deadline, by
	}
	d.flag(FlagDoubling, "翻一番 (doubling): twice the figure of the year before the plan (multiple_of); no number is printed")
	st.emit(d, subject)
}

// fullCoverage: "力争2020年前实现国家级贫困县全覆盖" → a coverage of 100%.
func (st *sentence) fullCoverage(body, quote string, deadline int, by string, strive bool) {
	i := strings.Index(body, "全覆盖")
	subject := cleanSubject(strings.TrimPrefix(body[:i], "实现"))
	v := 100.0
	d := &Draft{NameZh: subject + "全覆盖", Value: &v, Unit: "percent", Comparator: ">=", Modality: "reach", Strive: strive,
		Quote: quoteOf(st.text, quote)}
	if deadline > 0 {
		d.Deadline, d.DeadlineBy = &deadline, by
	}
	d.flag(FlagAllCovered, "全覆盖 (full coverage) modelled as a coverage rate of 100%")
	st.emit(d, cleanSubject(st.prev)+subject+"覆盖率")
}
