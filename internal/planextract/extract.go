package planextract

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Options steer an extraction. Catalog and Regions are needed to resolve
// indicators and region names; the rest may be zero.
type Options struct {
	Catalog *catalog.Catalog
	Regions *region.Table
	Region  string // the plan's region code; else guessed from the issuer
	Horizon int    // deadline for targets whose text gives no year (0: none)
	Start   int    // first plan year, for per-year quotas (0: from the publication year)
}

// Result is what a text yields: the plan's header as far as the text tells
// it, and the drafted targets in text order.
type Result struct {
	Header Header   `json:"plan"`
	Drafts []*Draft `json:"targets"`
	// Warnings say what a reviewer should know about the text as a whole:
	// a text that states no target but reports results names those
	// sentences.
	Warnings []string `json:"warnings,omitempty"`
}

// Header is the plan's own data as found in the text.
type Header struct {
	NameZh    string `json:"name_zh"`
	Issuer    string `json:"issuer"`
	Published string `json:"published"`
	Region    string `json:"region"`
}

// Extract drafts the targets of a plan text (already decoded).
func Extract(text string, opt Options) *Result {
	lines := Lines(text)
	res := &Result{Header: header(lines, opt)}
	if opt.Region == "" {
		opt.Region = res.Header.Region
	}
	res.Header.Region = opt.Region
	if opt.Start == 0 && len(res.Header.Published) >= 4 {
		opt.Start, _ = strconv.Atoi(res.Header.Published[:4])
	}
	x := &extractor{opt: opt, res: newResolver(opt.Catalog), aim: aimYear(text, opt.Horizon)}
	paras := paragraphs(lines)
	// An agencies bracket speaks for its clause.
	type agency struct{ lead, resp []string }
	byClause := map[string]agency{}
	var bracketed []string            // clauses with a bracket, in text order
	clauseText := map[string]string{} // their text, to find a goal's task clause
	var closing *agency
	closingClause := ""
	for i, p := range paras {
		l, r, body := agencies(p.text)
		if l == nil && r == nil {
			if _, ok := byClause[p.clause]; ok {
				clauseText[p.clause] += body
			}
			continue
		}
		if _, ok := byClause[p.clause]; !ok {
			byClause[p.clause] = agency{l, r}
			bracketed = append(bracketed, p.clause)
		}
		clauseText[p.clause] += body
		// "(省质监局牵头,各设区市党委和政府、省各有关部门负责)" closing the
		// plan, in an unnumbered last paragraph: the lead of the whole plan
		if _, sec, item, _ := clauseMarker(p.text); len(l) > 0 && sec == "" && item == "" && i >= len(paras)-3 &&
			strings.Contains(strings.Join(r, "、"), "有关部门") {
			closing, closingClause = &agency{l, r}, p.clause
		}
	}
	clause, year := "", 0
	for _, p := range paras {
		if p.clause != clause {
			// the deadline in force runs to the end of its clause
			clause, year = p.clause, 0
		}
		lead, resp, body := agencies(p.text)
		if lead == nil && resp == nil {
			a := byClause[p.clause]
			lead, resp = a.lead, a.resp
		}
		_, _, _, body = clauseMarker(body)
		var drafts []*Draft
		drafts, year = x.paragraph(body, year)
		for _, d := range drafts {
			d.Clause, d.Line = p.clause, p.line
			d.Lead, d.Agencies = nonNil(lead), nonNil(resp)
			if len(d.Lead) == 0 && len(d.Agencies) == 0 {
				if c, run := taskClause(d, bracketed, clauseText); c != "" {
					a := byClause[c]
					d.Lead, d.Agencies, d.AgenciesFrom = nonNil(a.lead), nonNil(a.resp), c
					d.flag(FlagAgencies, fmt.Sprintf("the clause names no agencies: those of %s, a task clause that names %q; check which clause carries this goal out", c, run))
				}
			}
			if len(d.Lead) == 0 && closing != nil && d.Clause != closingClause {
				d.Lead = closing.lead
				if d.AgenciesFrom != "" {
					d.AgenciesFrom += "; "
				}
				d.AgenciesFrom += "牵头: " + closingClause + " (closing paragraph)"
			}
			if d.Flags == nil {
				d.Flags = []Flag{}
			}
			if d.Region == "" && len(d.Regions) == 0 {
				d.Region = opt.Region
			}
			res.Drafts = append(res.Drafts, d)
		}
	}
	res.Drafts = dropRepeats(res.Drafts)
	if len(res.Drafts) > 0 && !looksAhead(text, res.Drafts, opt) && (len(x.results) > 0 || containsAny(text, reportWords)) {
		for _, d := range res.Drafts {
			x.noteResult(d.Quote)
		}
		res.Drafts = nil
	}
	if len(res.Drafts) == 0 && len(x.results) > 0 {
		res.Warnings = append(res.Warnings, resultsWarning(x.results))
	}
	return res
}

// taskClause finds, for a goal whose clause names no agencies, the clause
// with an agencies bracket that names the goal's measure: the longest run of
// at least three characters of the measure (without its 合格率/指数 tail)
// found in a clause's text; the first such clause on a tie.
func taskClause(d *Draft, bracketed []string, text map[string]string) (clause, run string) {
	name := []rune(cutTail(pick(d.measure, d.NameZh)))
	best, bestRun, bestLen := "", "", 2
	for _, c := range bracketed {
		if c == d.Clause {
			continue
		}
		t := text[c]
		for n := len(name); n > bestLen; n-- {
			found := false
			for i := 0; i+n <= len(name); i++ {
				if strings.Contains(t, string(name[i:i+n])) {
					found, bestRun = true, string(name[i:i+n])
					break
				}
			}
			if found {
				best, bestLen = c, n
				break
			}
		}
	}
	return best, bestRun
}

// looksAhead reports whether a text states aims: a deadline read from it, a
// horizon given, or words of intent (提出, 目标, 力争 …). A text with none of
// these that reads as a report (累计, 截至, 成效 …) states results, not
// targets.
func looksAhead(text string, drafts []*Draft, opt Options) bool {
	if opt.Horizon > 0 {
		return true
	}
	for _, d := range drafts {
		if d.DeadlineBy == "sentence" || d.DeadlineBy == "paragraph" {
			return true
		}
	}
	return containsAny(text, aimWords)
}

// resultsWarning names the sentences of a text that yielded no target but
// read as results.
func resultsWarning(results []string) string {
	const most = 5
	var quoted []string
	for i, r := range results {
		if i == most {
			quoted = append(quoted, fmt.Sprintf("… and %d more", len(results)-most))
			break
		}
		if rs := []rune(r); len(rs) > 60 {
			r = string(rs[:60]) + "…"
		}
		quoted = append(quoted, "«"+r+"»")
	}
	n := fmt.Sprintf("%d sentences read", len(results))
	if len(results) == 1 {
		n = "1 sentence reads"
	}
	return fmt.Sprintf("no target drafted: the text reports results, not aims (%s as results: %s); if it is a plan, give --horizon and check by hand",
		n, strings.Join(quoted, "; "))
}

// dropRepeats removes a draft that repeats another from a different segment
// with the same value, comparator, deadline and modality under a name the
// other's contains but for a qualifier of a few characters (主要, 全省): a headline repeating a target ("到2020年,消费品与国际标准
// 一致性程度达95%以上" above "主要消费品与国际标准一致性程度达到95%以上"). The
// fuller name is kept.
func dropRepeats(drafts []*Draft) []*Draft {
	drop := make([]bool, len(drafts))
	for i, a := range drafts {
		for j, b := range drafts {
			if i == j || drop[j] || a.Quote == b.Quote || !sameTarget(a, b) {
				continue
			}
			extra := utf8.RuneCountInString(b.NameZh) - utf8.RuneCountInString(a.NameZh)
			if strings.Contains(b.NameZh, a.NameZh) && extra <= 4 && (extra > 0 || j < i) {
				drop[i] = true
				break
			}
		}
	}
	var out []*Draft
	for i, d := range drafts {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out
}

func sameTarget(a, b *Draft) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	ei := func(x, y *int) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return eq(a.Value, b.Value) && eq(a.Increment, b.Increment) && ei(a.Deadline, b.Deadline) &&
		a.Comparator == b.Comparator && a.Modality == b.Modality && a.NameZh != ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type extractor struct {
	opt     Options
	res     *resolver
	context string   // the paragraph being read, to weigh indicator names
	results []string // sentences read as results, in text order
	aim     int      // the latest year the text aims at (到2025年) or --horizon
}

// aimYear is the latest deadline a text states ("到2025年", "力争2025年"),
// or the horizon given, whichever is later.
func aimYear(text string, horizon int) int {
	aim := horizon
	for _, m := range reDeadline.FindAllStringSubmatch(text, -1) {
		if y, _ := strconv.Atoi(m[1]); y > aim && (strings.HasPrefix(m[0], "到") || strings.HasPrefix(m[0], "力争") || strings.HasPrefix(m[0], "争取")) {
			aim = y
		}
	}
	return aim
}

// noteResult keeps a sentence that reads as a result (once).
func (x *extractor) noteResult(sent string) {
	sent = strings.TrimSpace(sent)
	if n := len(x.results); n == 0 || x.results[n-1] != sent {
		x.results = append(x.results, sent)
	}
}

// "通过三年的努力": a deadline counted from the plan's first year.
var reEffort = regexp.MustCompile(`(?:通过|用|经过)([一二两三四五六七八九十0-9]{1,2})年(?:左右)?(?:的|时间)?(?:努力|奋斗|时间)`)

func chineseNumber(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return map[string]int{"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}[s]
}

var (
	reSentence = regexp.MustCompile(`[。;!?]`)
	// A milestone heading: a year alone before the first comma ("2023年,").
	reMilestone = regexp.MustCompile(`^((?:19|20)[0-9]{2})年(?:底|末)?$`)
	// A deadline: 到2025年, 至2025年底, 2020年前, 力争2020年, “十四五”末.
	reDeadline = regexp.MustCompile(`(?:到|至|截止|力争|争取|在)?((?:19|20)[0-9]{2})年(底|末|前|以前|年底)?`)
	rePlan5    = regexp.MustCompile(`“?(十四五|十五五|十三五)”?(?:末|时期末|期末)`)
)

// splitOutside splits s at any of seps that is not inside brackets or quotes.
func splitOutside(s string, seps string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(', '《', '“', '[', '「':
			depth++
		case ')', '》', '”', ']', '」':
			if depth > 0 {
				depth--
			}
		default:
			if depth == 0 && strings.ContainsRune(seps, r) {
				out = append(out, s[start:i])
				start = i + utf8.RuneLen(r)
			}
		}
	}
	return append(out, s[start:])
}

// yearIn classifies the years a segment names: the deadline it sets (0 if
// none) and whether it reports a result ("2023年…达到93.65%", "2016年的92.9%").
func yearIn(seg string) (deadline int, result bool) {
	for _, m := range reDeadline.FindAllStringSubmatchIndex(seg, -1) {
		y, _ := strconv.Atoi(seg[m[2]:m[3]])
		pre := seg[m[0]:m[2]]
		suf := ""
		if m[4] >= 0 {
			suf = seg[m[4]:m[5]]
		}
		before := seg[:m[0]]
		after := seg[m[1]:]
		switch {
		case pre == "截止" || strings.HasSuffix(before, "截"):
			result = true
		case pre == "到" || pre == "至" || pre == "力争" || pre == "争取" || suf != "":
			if pre == "至" && (strings.HasSuffix(before, "提高") || strings.HasSuffix(before, "提升")) {
				result = true
				continue
			}
			deadline = y
		case strings.HasPrefix(after, "的"):
			result = true
		case strings.HasSuffix(before, "较") || strings.HasSuffix(before, "比") || strings.HasSuffix(before, "以") ||
			strings.HasSuffix(before, "与") || strings.HasSuffix(before, "由") || strings.HasPrefix(after, "起") ||
			strings.HasPrefix(after, "基础上") || strings.HasPrefix(after, "为基") || strings.HasPrefix(after, "-") ||
			strings.HasPrefix(after, "—") || strings.HasPrefix(after, "～") || strings.HasPrefix(after, "~") ||
			strings.HasPrefix(after, "度") || strings.HasSuffix(before, "(") || strings.HasSuffix(before, "-"):
			// a baseline, a start, a span or a title: neither
		default:
			if pre == "在" {
				deadline = y
				continue
			}
			result = true
		}
	}
	if m := rePlan5.FindStringSubmatch(seg); m != nil {
		deadline = map[string]int{"十三五": 2020, "十四五": 2025, "十五五": 2030}[m[1]]
	}
	return deadline, result
}

// resultWords mark a sentence that reports what happened.
var resultWords = []string{"已达到", "已达", "已经", "已建成", "已创建", "已获得", "同比", "较上年", "比上年", "实际完成", "共完成", "累计完成了", "目前", "截至", "截止到"}

// reportWords are the words of a report of what was done.
var reportWords = []string{"截至", "累计", "已", "目前", "取得", "成效", "成果", "同比", "较上年", "连续"}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// aimWords show that a text looks ahead; a text with none of them, no
// deadline and no --horizon reports results, whatever its verbs.
var aimWords = []string{"提出", "目标", "力争", "争取", "明确", "计划", "预计", "将", "确保"}

// paragraph drafts the targets of one paragraph.
func (x *extractor) paragraph(text string, paraYear int) ([]*Draft, int) {
	var out []*Draft
	x.context = text
	for _, sent := range reSentence.Split(text, -1) {
		if strings.TrimSpace(sent) == "" {
			continue
		}
		sentYear := 0
		result := false
		for _, w := range resultWords {
			if strings.Contains(sent, w) {
				result = true
			}
		}
		st := &sentence{x: x, text: sent}
		for k, seg := range splitOutside(sent, ",:") {
			y, res := yearIn(seg)
			if k == 0 && res && x.opt.Start > 0 {
				// a milestone heading: "2023年,全市…达到…" in a plan of 2022
				// that aims at 2025 (a year of its span, not a year reported)
				if m := reMilestone.FindStringSubmatch(strings.TrimSpace(seg)); m != nil {
					if my, _ := strconv.Atoi(m[1]); my >= x.opt.Start && my <= x.aim {
						y, res = my, false
					}
				}
			}
			if m := reEffort.FindStringSubmatch(seg); m != nil && x.opt.Start > 0 {
				y = x.opt.Start + chineseNumber(m[1]) - 1
			}
			if y > 0 {
				sentYear, paraYear = y, y
				result = false
			} else if res {
				result = true
			}
			if result {
				st.flush()
				if len(numbers(seg)) > 0 {
					x.noteResult(sent)
				}
				continue
			}
			dl, by := paraYear, "paragraph"
			if sentYear > 0 {
				dl, by = sentYear, "sentence"
			}
			st.segment(seg, dl, by)
		}
		st.flush()
		out = append(out, st.out...)
	}
	return out, paraYear
}
