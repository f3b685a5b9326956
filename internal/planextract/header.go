package planextract

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	reTitle     = regexp.MustCompile(`(关于.*(?:实施意见|实施方案|纲要|规划|行动计划|意见|方案))`)
	reBook      = regexp.MustCompile(`《([^》]+)》`)
	reISODate   = regexp.MustCompile(`((?:19|20)[0-9]{2})-([0-9]{1,2})-([0-9]{1,2})`)
	reCJKDate   = regexp.MustCompile(`((?:19|20)[0-9]{2})年([0-9]{1,2})月([0-9]{1,2})日`)
	reIssuer    = regexp.MustCompile(`(中共中央[、 ]*国务院|中共[^\s,、《]{2,8}(?:省委|市委|区委)[、 ]*[^\s,、《]{2,8}(?:人民政府|政府)|[^\s,、《(]{2,8}(?:省|市|自治区)人民政府(?:办公厅)?)`)
	nationalWho = regexp.MustCompile(`中共中央|国务院`)
)

// National is the region code used for plans of the whole country (全国):
// GB/T 2260 has no code for the country; 100000 follows the convention of
// the national statistics and administrative-division services.
const National = "100000"

// header reads the plan's title, issuer, date and region from its first lines.
func header(lines []string, opt Options) Header {
	var h Header
	for i, l := range lines {
		if i > 25 {
			break
		}
		if h.NameZh == "" {
			if m := reTitle.FindString(l); m != "" && len([]rune(l)) < 80 {
				h.NameZh = strings.TrimSuffix(m, "的通知")
				if j := strings.Index(l, "关于"); j > 0 && h.Issuer == "" {
					if is := reIssuer.FindString(l[:j]); is != "" {
						h.Issuer = strings.TrimLeft(strings.TrimSpace(is), "•·*-—")
					}
				}
			} else if m := reBook.FindStringSubmatch(l); m != nil && len([]rune(l)) < 40 {
				h.NameZh = m[1]
			}
		}
		if h.Issuer == "" {
			if is := reIssuer.FindString(l); is != "" {
				h.Issuer = strings.TrimLeft(strings.TrimSpace(is), "•·*-—")
			}
		}
		if h.Published == "" {
			if m := reISODate.FindStringSubmatch(l); m != nil {
				h.Published = fmt.Sprintf("%s-%02s-%02s", m[1], pad(m[2]), pad(m[3]))
			} else if m := reCJKDate.FindStringSubmatch(l); m != nil {
				h.Published = fmt.Sprintf("%s-%s-%s", m[1], pad(m[2]), pad(m[3]))
			}
		}
	}
	h.Region = opt.Region
	if h.Region == "" && h.Issuer != "" {
		if nationalWho.MatchString(h.Issuer) && !strings.Contains(h.Issuer, "省") && !strings.Contains(h.Issuer, "市") {
			h.Region = National
		} else if opt.Regions != nil {
			best, bestLen := "", 0
			for _, r := range opt.Regions.All() {
				for _, n := range []string{r.Name, r.Short} {
					if len([]rune(n)) >= 2 && strings.Contains(h.Issuer, n) && len(n) > bestLen {
						best, bestLen = r.Code, len(n)
					}
				}
			}
			h.Region = best
		}
	}
	return h
}

func pad(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}
