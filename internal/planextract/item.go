package planextract

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Verbs that put the count before what is counted: "选择1000家大中型骨干企业…",
// "组织实施50项…攻关项目".
var countVerbs = append([]string{"实施", "开展", "组织实施"}, newVerbs...)

// Words that stand for the measure of the previous target ("总数达到5982万亩").
var stockWords = map[string]bool{"总数": true, "总量": true, "总面积": true, "累计": true, "总规模": true}

// What introduces a report of a plan's aims: "《纲要》提出建设…4个以上".
var reIntro = regexp.MustCompile(`^\s*(?:《[^》]{1,40}》)?(?:还|并|同时|进一步)?(?:提出|明确|要求|强调)(?:了)?`)

var reCompare = regexp.MustCompile(`(?:较|比)((?:19|20)[0-9]{2})年`)

// segCtx is what the items of one segment share.
type segCtx struct {
	seg, quote string
	deadline   int
	by         string
	strive     bool
	mode       string // verb class of the first item: new or reach
	first      string // the first item's subject (for "主导和参与制定国际标准20项、国家标准600项")
}

// segment drafts the targets of one comma-delimited segment.
func (st *sentence) segment(seg string, deadline int, by string) {
	defer func() { st.prev = seg }()
	c := &segCtx{seg: seg, quote: strings.TrimSpace(seg), deadline: deadline, by: by}
	body := reDeadline.ReplaceAllStringFunc(seg, func(s string) string {
		if strings.HasPrefix(s, "力争") || strings.HasPrefix(s, "争取") {
			return "力争"
		}
		return ""
	})
	body = rePlan5.ReplaceAllString(body, "")
	body = reIntro.ReplaceAllString(body, "")
	body, c.strive = trimLead(body)
	// "力争到2025年,A…,B…": 力争 governs every item of the sentence after it.
	if w := strings.TrimSpace(body); w == "力争" || w == "争取" || w == "努力" {
		c.strive = true
	}
	if c.strive {
		st.strive = true
	}
	c.strive = c.strive || st.strive
	if strings.Contains(seg, "翻一番") || strings.Contains(seg, "翻番") {
		st.flush()
		st.doubling(body, c.quote, deadline, by, c.strive)
		return
	}
	if strings.Contains(body, "全覆盖") && by == "sentence" && reDeadline.MatchString(seg) {
		st.flush()
		st.fullCoverage(body, c.quote, deadline, by, c.strive)
		return
	}
	found := false
	for i, item := range listItems(body) {
		for _, n := range numbers(item) {
			if st.item(c, i, item, n) {
				found = true
				break
			}
		}
	}
	if found {
		st.mode = c.mode
	} else if len(numbers(body)) == 0 {
		// a segment without numbers ends a run of "新增A10个,B20个"
		st.mode = ""
	}
}

func stripSuffixMods(s string) (string, []string) {
	var mods []string
	for again := true; again; {
		again = false
		for _, w := range modifiers {
			if strings.HasSuffix(s, w) && len(s) > len(w) {
				mods = append(mods, w)
				s, again = s[:len(s)-len(w)], true
			}
		}
	}
	return s, mods
}

// item tries to read one target around number n of an item; it reports
// whether the item is done with (a target drafted, or an increment pending).
func (st *sentence) item(c *segCtx, i int, item string, n number) bool {
	prefix, mods := stripSuffixMods(item[:n.start])
	perYear := strings.Contains(prefix, "每年") && !strings.Contains(prefix, "年均")
	if perYear {
		prefix = strings.Replace(prefix, "每年", "", 1)
	}
	rest := item[n.end:]
	cmpWord, _ := hasPrefixAny(rest, []string{"及以上", "以上", "以下", "以内", "左右", "多"})
	money := n.unit == "亿元" // only a measure in money: "海洋生产总值3000亿元"
	d := &Draft{Strive: c.strive, Flags: append([]Flag(nil), n.flags...), Quote: quoteOf(st.text, c.quote)}
	if c.deadline > 0 {
		dl := c.deadline
		d.Deadline, d.DeadlineBy = &dl, c.by
	} else {
		d.DeadlineBy = "none"
	}
	v := n.value
	d.Value = &v
	d.Unit = unitOf[n.unit]

	var subject, verb, alt string
	newItem := false
	if verb, _ = hasSuffixAny(prefix, reachVerbs); verb != "" {
		subject = strings.TrimSuffix(prefix, verb)
		var more []string
		subject, more = stripSuffixMods(subject)
		mods = append(mods, more...)
		// "新建标准化项目达到50项": new items, however the count is verbed
		if nv, ok := hasPrefixAny(cleanSubject(subject), newVerbs); ok && strings.HasPrefix(nv, "新") {
			subject, newItem, d.explicitNew = strings.TrimPrefix(cleanSubject(subject), nv), true, true
		}
		if verb == "在" || verb == "为" || verb == "达" {
			// weak verbs count only after an indicator phrase, or completing a rise
			if !hasTail(trimMods(subject)) && !(verb == "达" && subject != "") && !(subject == "" && st.pending != nil) {
				return false
			}
		}
	} else if verb, _ = hasSuffixAny(prefix, incVerbs); verb != "" {
		subject = strings.TrimSuffix(prefix, verb)
		subject, _ = stripSuffixMods(subject)
		st.flush()
		d.NameZh = cleanSubject(subject)
		inc := n.value
		d.Increment, d.Value = &inc, nil
		d.incVerb = verb
		d.Comparator = ">="
		if verb == "下降" || verb == "降低" || verb == "减少" || verb == "缩小" {
			d.Comparator = "<="
		}
		if n.unit == "%" {
			d.flag(FlagRelative, "a rise or fall in per cent of the base value, not in percentage points")
		}
		if m := reCompare.FindStringSubmatch(c.seg); m != nil {
			y, _ := strconv.Atoi(m[1])
			d.Baseline = &Baseline{Year: y}
			d.NameZh = cleanSubject(strings.Replace(d.NameZh, m[0], "", 1))
		}
		d.Modality = "reach"
		st.pending = d
		return true
	} else if v, ok := hasSuffixAny(prefix, countVerbs); ok {
		// 选择1000家大中型骨干企业实施品牌创建活动: what is counted follows
		verb, newItem = v, true
		subject = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(rest, cmpWord), "以上"), "余")
		rest = ""
	} else if v, at, ok := newVerbAt(prefix, n.unit); ok {
		verb, newItem = v, true
		d.explicitNew = strings.HasPrefix(v, "新")
		subject = at[len(v):]
		alt = at // "培育团体标准" is an alias in its own right
	} else if i > 0 && c.mode != "" || i == 0 && st.mode == "new" && n.unit != "%" {
		// a list item sharing the verb of the first: "国家和行业标准440项"
		mode := c.mode
		if i == 0 {
			mode = st.mode
		}
		newItem = mode == "new"
		subject = prefix
		if i > 0 && c.first != "" {
			fr, ir := []rune(c.first), []rune(prefix)
			if len(fr) > len(ir) {
				alt = string(fr[:len(fr)-len(ir)]) + prefix
			}
		}
	} else if hasTail(trimMods(prefix)) && (cmpWord != "" || n.unit == "%" || perYear || money) {
		subject = prefix
	} else if n.unit == "%" && prefix != "" && startsVerbPhrase(rest) {
		// "医疗器械生产企业100%实施医疗器械生产质量管理规范"
		subject = prefix + rest
		rest = ""
	} else {
		return false
	}
	subject = strings.TrimSpace(subject)
	if money && (newItem || !hasTail(trimMods(subject))) {
		return false // "补助2000万元", "投资100亿元": money spent, not a measure
	}
	restAfter := strings.TrimPrefix(strings.TrimPrefix(rest, cmpWord), "以上")
	if (strings.HasSuffix(subject, "等") && restAfter != "") || strings.HasSuffix(subject, "的") || subject == "" && st.pending == nil && !newItem {
		return false // "…等22个行业": a count in passing
	}
	for _, m := range mods {
		switch m {
		case "累计", "总数", "总量":
			d.Cumulative = true
		case "平均":
			d.Average = true
			d.flag(FlagAverage, "平均: a mean over regions (give average: in the plan file)")
		case "力争", "争取":
			d.Strive = true
		}
	}
	both := slices.Contains(mods, "均") || slices.Contains(mods, "分别")
	if newItem {
		d.Modality = "new"
		if c.mode == "" {
			c.mode = "new"
		}
	} else {
		d.Modality = "reach"
		if holdVerbs[verb] {
			d.Modality = "hold"
		}
		if c.mode == "" {
			c.mode = "reach"
		}
	}
	if i == 0 {
		c.first = cleanSubject(subject)
	}
	if perYear {
		d.Modality = "quota"
	}
	d.Comparator = ">="
	if lowerVerbs[verb] || cmpWord == "以下" || cmpWord == "以内" {
		d.Comparator = "<="
	}
	if c, ok := strictVerbs[verb]; ok && cmpWord == "" {
		d.Comparator = c
	}
	if cmpWord == "左右" {
		if newItem {
			// "新培育中国质量奖2个左右": reviewers judge about N new items as at least N
			d.flag(FlagApprox, "左右: about this many new items, drafted as at least this many")
		} else {
			d.Comparator = "=="
			d.flag(FlagApprox, "左右: about this value")
		}
	}
	if n.hi != nil {
		d.flag(FlagRange, fmt.Sprintf("a range %s: the lower bound is taken", n.printed))
	}
	// "提高N,达到M": this "达到" completes the pending rise.
	if p := st.pending; p != nil && strings.TrimSpace(trimMods(subject)) == "" && !newItem {
		p.Value, p.Unit, p.Comparator, p.Modality = d.Value, pick(d.Unit, p.Unit), d.Comparator, d.Modality
		p.Flags = append(p.Flags, d.Flags...)
		if d.Deadline != nil {
			p.Deadline, p.DeadlineBy = d.Deadline, d.DeadlineBy
		}
		p.Quote = p.Quote + "," + c.quote
		st.pending = nil
		checkIncrement(p)
		st.emit(p, "")
		return true
	}
	st.flush()
	subject = trimMods(subject)
	if stockWords[subject] || subject == "" {
		prev := st.last()
		if prev == nil {
			return false
		}
		for _, m := range []string{"总数", "总量", "总面积"} {
			if subject == "" && slices.Contains(mods, m) {
				subject = m
			}
		}
		subject = measureOf(prev.measure) + subject
		d.Cumulative = true
	}
	// Several values: "分别达到25%和15%以上".
	values := []number{n}
	tail := rest
	for {
		t := strings.TrimPrefix(tail, cmpWord)
		t = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(t, "和"), "、"), "及")
		if t == tail || t == "" {
			break
		}
		more := numbers(t)
		if len(more) == 0 || more[0].start != 0 {
			break
		}
		values = append(values, more[0])
		tail = t[more[0].end:]
		cmpWord, _ = hasPrefixAny(tail, []string{"及以上", "以上", "以下", "以内", "左右"})
		if cmpWord == "以下" || cmpWord == "以内" {
			d.Comparator = "<="
		}
	}
	base := append([]Flag(nil), d.Flags...)
	parts := []string{subject}
	if both || len(values) > 1 {
		parts = splitSubjects(subject, len(values))
	} else if d.Modality != "new" {
		parts = st.x.splitList(subject)
	}
	for k, part := range parts {
		dd := d
		if k > 0 {
			cp := *d
			cp.Flags = append([]Flag(nil), base...)
			dd = &cp
		}
		if len(values) > 1 {
			vv := values[min(k, len(values)-1)]
			val := vv.value
			dd.Value = &val
			if vv.unit != "" {
				dd.Unit = unitOf[vv.unit]
			}
		}
		whole := part
		if len(parts) > 1 && !hasTail(part) {
			whole = st.x.inherit(part, parts[len(parts)-1])
		}
		if !hasTail(whole) && d.Modality != "new" && d.Modality != "quota" && len(parts) > 1 {
			if prev := st.last(); prev != nil && hasTail(prev.measure) {
				whole = part + measureOf(prev.measure)
				dd.Group = part
				dd.flag(FlagRegionGroup, fmt.Sprintf("%q: a group of regions; the measure is the previous target's", part))
			}
		}
		dd.NameZh = part
		if k == 0 && alt != "" && len(parts) == 1 {
			if _, s1 := st.x.res.best(alt, dd.Unit, dd.Modality); st.x.res.exact(alt) || s1 > 0.99 {
				whole = alt
			} else if _, s0 := st.x.res.best(whole, dd.Unit, dd.Modality); s1 > s0 {
				whole = alt
			}
		}
		st.emit(dd, whole)
	}
	return true
}

// newVerbAt finds the verb of new items at the start of an item's prefix,
// after the words that may lead it ("全市新建", "重点培育") or one two-character
// verb before it ("评价发布", "实施"+count): the verb and the prefix from it.
func newVerbAt(prefix, unit string) (verb, at string, ok bool) {
	lp, _ := trimLead(prefix)
	if v, ok := hasPrefixAny(lp, newVerbs); ok {
		return v, lp, true
	}
	if r := []rune(lp); len(r) > 4 && unit != "%" && unitOf[unit] == "count" {
		rest := string(r[2:])
		if v, ok := hasPrefixAny(rest, newVerbs); ok {
			return v, rest, true
		}
		if v, ok := hasPrefixAny(lp, []string{"组织实施", "实施", "开展"}); ok {
			return v, lp, true
		}
	}
	return "", "", false
}

// measureOf drops a leading verb from a measure phrase.
func measureOf(s string) string {
	if v, ok := hasPrefixAny(s, newVerbs); ok {
		return strings.TrimPrefix(s, v)
	}
	return s
}
