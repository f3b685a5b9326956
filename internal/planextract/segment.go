package planextract

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A number as printed, with an optional range and unit. A private-use or
// stray character between digits is kept so that it can be flagged.
var reNumber = regexp.MustCompile(`([0-9]+(?:[.\x{E000}-\x{F8FF}][0-9]+)?)(?:[-~～—–]([0-9]+(?:\.[0-9]+)?))?(个百分点|%|万亩|万家|万个|万项|万件|万户|万人|万元|亿元|元|项|个|家|件|条|户|所|座|种|批次|批|名|人次|人|分|天|倍|公里|千米|吨|次|年|亿|万|位)?`)

var unitOf = map[string]string{
	"%": "percent", "个百分点": "percent", "万亩": "10k_mu", "分": "score", "天": "days",
	"项": "count", "个": "count", "家": "count", "件": "count", "条": "count", "户": "count", "所": "count",
	"座": "count", "种": "count", "批": "count", "名": "count", "人": "count", "人次": "count", "位": "count",
	"万家": "count", "万个": "count", "万项": "count", "万件": "count", "万户": "count", "万人": "count", "万": "count",
}

// Verbs, longest first where one is the prefix of another.
var (
	reachVerbs = []string{"稳定在", "保持在", "保持", "控制在", "提高到", "提升到", "提高至", "提升至", "增加到", "增长到", "增加至", "增长至", "增至",
		"降至", "降低到", "下降到", "降低至", "下降至", "减少到", "减少至", "不少于", "不低于", "不高于", "不超过", "不大于", "不小于",
		"超过", "高于", "低于", "达到", "突破", "达", "在", "为"}
	incVerbs = []string{"提高", "提升", "增加", "增长", "下降", "降低", "减少", "缩小", "扩大"}
	newVerbs = []string{"新建成", "新制定", "新培育", "新获得", "新获", "新认定", "累计建成", "重点帮扶", "支持鼓励", "制修订", "新增和修订", "新增",
		"培育", "打造", "创建", "新建", "建成", "建设", "制定", "修订", "认证", "推动", "组织", "帮扶", "选择", "支持", "争创", "引进",
		"培养", "评选", "发布", "主导", "获得", "建立", "完成", "认定", "扶持", "推广", "创成", "公开", "选树", "搭建"}
	holdVerbs = map[string]bool{"稳定在": true, "保持在": true, "保持": true}
	// Verbs that exclude the value itself: "超过70项" is more than 70.
	strictVerbs = map[string]string{"超过": ">", "突破": ">", "高于": ">", "低于": "<"}
	lowerVerbs  = map[string]bool{"控制在": true, "降至": true, "降低到": true, "下降到": true, "降低至": true, "下降至": true,
		"减少到": true, "减少至": true, "不高于": true, "不超过": true, "不大于": true, "低于": true}
	lead        = []string{"我省", "我市", "全省", "全市", "本省", "本市", "力争", "争取", "努力", "确保", "其中", "并且", "同时", "以及", "并", "且", "使", "要", "将", "全部", "均", "进一步", "实现"}
	modifiers   = []string{"均", "分别", "平均", "力争", "争取", "要", "将", "总数", "总量", "累计", "全部", "整体", "都", "共", "合计", "达到或", "年均"}
	metricTails = []string{"率", "度", "指数", "比例", "比重", "数", "量", "面积", "水平", "强度", "值", "占比", "生产率", "收入"}
	tailWords   = []string{"顾客满意度", "满意度", "抽检", "抽查", "监测", "合格率", "覆盖率", "比例", "比重", "指数", "质量"}
)

func trimLead(s string) (string, bool) {
	strive := false
	for again := true; again; {
		again = false
		for _, w := range lead {
			if strings.HasPrefix(s, w) && len(s) > len(w) {
				if w == "力争" || w == "争取" || w == "努力" {
					strive = true
				}
				s, again = s[len(w):], true
			}
		}
	}
	return s, strive
}

func hasTail(s string) bool {
	s = strings.TrimRight(s, ")")
	for _, t := range metricTails {
		if strings.HasSuffix(s, t) {
			return true
		}
	}
	return false
}

// sentence holds what one sentence has drafted so far: an increment waiting
// for its "达到…", and the previous target for subjects that share its measure.
type sentence struct {
	x       *extractor
	text    string
	strive  bool // 力争/争取 seen: it governs the rest of the sentence
	out     []*Draft
	pending *Draft
	prev    string // the previous segment
	mode    string // the verb class of the previous segment: new or reach
}

func (st *sentence) flush() {
	if p := st.pending; p != nil {
		p.flag(FlagIncrementOnly, "the text states a rise without the level to reach: value = baseline + increment")
		st.pending = nil
		st.emit(p, "")
	}
}

func (st *sentence) last() *Draft {
	if n := len(st.out); n > 0 {
		return st.out[n-1]
	}
	return nil
}

// number is one number found in an item.
type number struct {
	start, end int // byte offsets in the item
	printed    string
	value      float64
	hi         *float64
	unit       string // as printed
	flags      []Flag
}

func parseNumber(item string, m []int) number {
	n := number{start: m[0], end: m[1], printed: item[m[0]:m[1]]}
	digits := item[m[2]:m[3]]
	if m[6] >= 0 {
		n.unit = item[m[6]:m[7]]
	}
	clean := digits
	for _, r := range digits {
		if isPrivate(r) {
			clean = strings.ReplaceAll(digits, string(r), "")
			point := strings.ReplaceAll(digits, string(r), ".")
			v, _ := strconv.ParseFloat(point, 64)
			n.flags = append(n.flags, Flag{Code: FlagPrivateChar, Field: "value", Suggested: &v,
				Reason: fmt.Sprintf("private-use character U+%04X inside the number %q (it displays as %s): read as a decimal point", r, digits, clean)})
		}
	}
	n.value, _ = strconv.ParseFloat(clean, 64)
	if math.IsInf(n.value, 0) {
		n.value = math.MaxFloat64
	}
	if strings.HasPrefix(n.unit, "万") && n.unit != "万亩" && n.unit != "万元" {
		n.value *= 10000
	}
	if m[4] >= 0 {
		hi, _ := strconv.ParseFloat(item[m[4]:m[5]], 64)
		n.hi = &hi
	}
	return n
}

// numbers finds the numbers of an item that can be target values: not
// years, not money, not part of a name ("4A级", "5G", “1+N”).
func numbers(item string) []number {
	var out []number
	for _, m := range reNumber.FindAllStringSubmatchIndex(item, -1) {
		unit := ""
		if m[6] >= 0 {
			unit = item[m[6]:m[7]]
		}
		before, after := item[:m[0]], item[m[1]:]
		prev, _ := utf8.DecodeLastRuneInString(before)
		next, _ := utf8.DecodeRuneInString(after)
		switch {
		case unit == "年" || unit == "倍" || unit == "万元" || unit == "元" || unit == "亿" || unit == "次":
			continue
		case unit == "" && (strings.HasPrefix(after, "月") || strings.HasPrefix(after, "日")):
			continue
		case isASCIIAlnum(prev) || prev == '+' || prev == '/' || prev == '.' || prev == '-' || prev == '“':
			continue
		case isASCIIAlnum(next) && unit == "" || next == '+' || next == '.' || next == '”' && unit == "":
			continue
		case strings.HasPrefix(after, "/") && unit != "%": // 1.5批次/千人 stays, 22万元/人 went above
		}
		if m[2] >= 0 && len(item[m[2]:m[3]]) == 4 && unit == "" && (strings.HasPrefix(after, "年") || strings.HasPrefix(after, "-")) {
			continue
		}
		out = append(out, parseNumber(item, m))
	}
	return out
}

func isASCIIAlnum(r rune) bool {
	return r < 0x80 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
}

// listItems splits a segment at "、" that follows a number ("国际标准50项、国家
// 和行业标准440项"): each item is one target sharing the first item's verb.
var reListBreak = regexp.MustCompile(`[0-9](?:个百分点|%|万亩|万家|万个|万项|万件|万户|万人|项|个|家|件|条|户|所|座|种|批|名|人|分|天|位)?(?:以上|以下|左右|及以上)?、`)

func listItems(seg string) []string {
	var out []string
	start := 0
	for _, m := range reListBreak.FindAllStringIndex(seg, -1) {
		out = append(out, seg[start:m[1]-len("、")])
		start = m[1]
	}
	return append(out, seg[start:])
}

func hasPrefixAny(s string, words []string) (string, bool) {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return w, true
		}
	}
	return "", false
}

func hasSuffixAny(s string, words []string) (string, bool) {
	for _, w := range words {
		if strings.HasSuffix(s, w) {
			return w, true
		}
	}
	return "", false
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func trimMods(s string) string {
	for again := true; again; {
		again = false
		for _, w := range modifiers {
			if strings.HasSuffix(s, w) && len(s) > len(w) {
				s, again = s[:len(s)-len(w)], true
			}
		}
	}
	s, _ = trimLead(s)
	return s
}

func startsVerbPhrase(s string) bool {
	for _, w := range append(append([]string{}, newVerbs...), "实施", "开展", "执行", "采用", "通过", "达到", "纳入") {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// cleanSubject trims what a subject should not start or end with.
func cleanSubject(s string) string {
	s, _ = trimLead(strings.TrimSpace(s))
	s = trimMods(s)
	return strings.Trim(s, "、,和及")
}

// splitSubjects splits "A和B" / "A、B" into n subjects (or as many as found).
func splitSubjects(s string, n int) []string {
	parts := splitOutside(s, "、")
	if len(parts) < 2 || (n > 1 && len(parts) != n) {
		for _, sep := range []string{"和", "及", "与"} {
			if p := strings.Split(s, sep); len(p) >= 2 && (n <= 1 || len(p) == n) {
				if len(parts) < 2 {
					parts = p
				} else {
					var out []string
					for _, q := range parts {
						out = append(out, strings.Split(q, sep)...)
					}
					parts = out
				}
				break
			}
		}
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return []string{s}
	}
	return out
}

// quoteOf is the segment that states the target, as printed (sentence is
// kept for the callers that have no segment).
func quoteOf(sentence, seg string) string {
	if seg = strings.TrimSpace(seg); seg != "" {
		return strings.Trim(seg, ",")
	}
	return strings.TrimSpace(sentence)
}

// checkIncrement flags a rise out of proportion to its target ("提高47,达到89"
// implies a start at 42): a lost decimal point is suggested.
func checkIncrement(d *Draft) {
	if d.Increment == nil || d.Value == nil || d.Comparator == "<=" {
		return
	}
	inc, val := *d.Increment, *d.Value
	if inc > val-inc && inc >= 10 {
		sug := inc / 10
		for k := 0; sug > val/2 && k < 20; k++ {
			sug /= 10
		}
		d.Flags = append(d.Flags, Flag{Code: FlagIncrement, Field: "increment", Suggested: &sug,
			Reason: fmt.Sprintf("a rise of %v to %v would start at %v, less than the rise itself: a decimal point may be lost (%v)", trimFloat(inc), trimFloat(val), trimFloat(val-inc), trimFloat(sug))})
		d.Printed = d.incVerb + trimFloat(inc)
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
