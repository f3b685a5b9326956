package planextract

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	reChapter = regexp.MustCompile(`^([一二三四五六七八九十]{1,3})[、.]`)
	reSection = regexp.MustCompile(`^\(([一二三四五六七八九十]{1,3})\)`)
	reItem    = regexp.MustCompile(`^([0-9]{1,2})(?:[.、]|\.)([^0-9]|$)`)
)

// clauseMarker splits a leading clause number off a line: a chapter
// ("二、"), a section ("(四)") or a numbered item ("9."). At most one of the
// three is set.
func clauseMarker(l string) (chapter, section, item, rest string) {
	if m := reChapter.FindStringSubmatch(l); m != nil {
		return m[1], "", "", l[len(m[0]):]
	}
	if m := reSection.FindStringSubmatch(l); m != nil {
		return "", m[1], "", l[len(m[0]):]
	}
	if m := reItem.FindStringSubmatchIndex(l); m != nil {
		return "", "", l[m[2]:m[3]], l[m[4]:]
	}
	return "", "", "", l
}

// paragraph is one logical line with the clause it belongs to.
type paragraph struct {
	clause string
	text   string
	line   int
}

// paragraphs numbers the lines of a text by the clause they fall in:
// "二(四)", "二(一)2", or "" before the first numbered clause.
func paragraphs(lines []string) []paragraph {
	var chapter, section, item string
	var out []paragraph
	for i, l := range lines {
		c, s, it, rest := clauseMarker(l)
		switch {
		case c != "":
			chapter, section, item = c, "", ""
		case s != "":
			section, item = s, ""
		case it != "":
			if n, _ := strconv.Atoi(it); n > 0 && n < 100 {
				item = it
			}
		}
		_ = rest
		clause := chapter
		if section != "" {
			clause += "(" + section + ")"
		}
		clause += item
		out = append(out, paragraph{clause: clause, text: l, line: i + 1})
	}
	return out
}

var (
	reLeadBracket = regexp.MustCompile(`\((?:牵头单位|责任单位)[:：][^()]*(?:\([^()]*\)[^()]*)*\)`)
	// Any bracket (one level of nesting inside) that may name agencies.
	reBracket = regexp.MustCompile(`\(([^()]*(?:\([^()]*\)[^()]*)*)\)`)
	// The roles a clause of an agencies bracket ends with.
	reLeadRole = regexp.MustCompile(`\s*牵头$`)
	reDutyRole = regexp.MustCompile(`\s*等?\s*(?:按职责分工(?:负责)?|负责)$`)
	reRoleSep  = regexp.MustCompile(`[,;，；]`)
	reOpenTail = regexp.MustCompile(`\(([^()]*)\s*$`)
	// Agencies are listed with 、 (or, where publication lost it, a space).
	reAgencySep = regexp.MustCompile(`[、,;，；\s]+`)
)

// agencies finds a clause's agencies bracket and removes it from the text:
// "(牵头单位:A、B;责任单位:C、D等)", "(A、B、C等按职责分工负责)" (also printed
// truncated, without 负责), "(A牵头,B、C按职责分工负责)", "(A牵头,各设区市
// 党委和政府、省各有关部门负责)" or "(A、B等按职责分工负责,各设区市党委和政府负责)".
func agencies(text string) (lead, resp []string, rest string) {
	if loc := reLeadBracket.FindStringIndex(text); loc != nil {
		inner := text[loc[0]+1 : loc[1]-1]
		rest = text[:loc[0]] + text[loc[1]:]
		li := strings.Index(inner, "牵头单位")
		ri := strings.Index(inner, "责任单位")
		cut := func(from, to int) string {
			if from < 0 {
				return ""
			}
			s := inner[from:]
			if to > from {
				s = inner[from:to]
			}
			s = strings.TrimLeft(s[len("牵头单位"):], ":：")
			return strings.Trim(s, ";,；，:：")
		}
		if li >= 0 {
			lead = agencyList(cut(li, ri))
		}
		if ri >= 0 {
			end := -1
			if li > ri {
				end = li
			}
			resp = agencyList(cut(ri, end))
		}
		return lead, resp, rest
	}
	locs := reBracket.FindAllStringSubmatchIndex(text, -1)
	if m := reOpenTail.FindStringSubmatchIndex(text); m != nil {
		// printed truncated, without its closing bracket ("…省体育局等按职责分工")
		locs = append(locs, m)
	}
	for _, m := range locs {
		inner := text[m[2]:m[3]]
		var l, r []string
		roles := 0
		parts := reRoleSep.Split(strings.Trim(inner, " ,;，；"), -1)
		for _, part := range parts {
			part = strings.TrimSpace(part)
			switch {
			case reLeadRole.MatchString(part):
				l = append(l, agencyList(reLeadRole.ReplaceAllString(part, ""))...)
				roles++
			case reDutyRole.MatchString(part):
				r = append(r, agencyList(reDutyRole.ReplaceAllString(part, ""))...)
				roles++
			}
		}
		// every clause of the bracket names a role: an agencies bracket, not
		// an aside that ends in 负责
		if roles > 0 && roles == len(parts) && len(l)+len(r) > 0 {
			return l, r, text[:m[0]] + text[m[1]:]
		}
	}
	return nil, nil, text
}

func agencyList(s string) []string {
	var out []string
	for _, a := range reAgencySep.Split(s, -1) {
		a = strings.TrimSpace(a)
		a = strings.TrimSuffix(a, "等")
		a = strings.TrimSuffix(a, "等单位")
		if a != "" && a != "等" {
			out = append(out, a)
		}
	}
	return out
}
