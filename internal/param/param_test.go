package param

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

func TestOneOf(t *testing.T) {
	for _, v := range []string{"", "a", "b"} {
		if got, err := OneOf("p", v, []string{"a", "b"}); err != nil || got != v {
			t.Errorf("OneOf(%q) = %q, %v", v, got, err)
		}
	}
	_, err := OneOf("region", "${r.region}", []string{"370200"})
	var pe *Error
	if !errors.As(err, &pe) || pe.Name != "region" || err.Error() != `参数无效:region="${r.region}",应为以下之一:370200` {
		t.Errorf("OneOf of a payload: %v", err)
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("青", 100)
	if got := Excerpt(long); got != `"`+strings.Repeat("青", 40)+`"…(300 bytes)` {
		t.Errorf("Excerpt(long) = %s", got)
	}
	if got := Excerpt("a\x00\n\xff"); got != `"a\x00\n\xff"` {
		t.Errorf("Excerpt(control) = %s", got)
	}
}

func TestMoments(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := Moments("2025-12-31", "", now); err != nil {
		t.Error(err)
	}
	for name, args := range map[string][2]string{"at": {"2025-13-45", ""}, "known_at": {"", `" or true`}} {
		_, _, err := Moments(args[0], args[1], now)
		var pe *Error
		if !errors.As(err, &pe) || pe.Name != name {
			t.Errorf("Moments(%q, %q) = %v, want an error naming %s", args[0], args[1], err, name)
		}
	}
}

// TestRegion: a county code or unique name is accepted; an ambiguous name is
// refused naming every candidate, an unknown one asking for a code or name.
func TestRegion(t *testing.T) {
	_, regs := testenv.Targets(t)
	for in, want := range map[string]string{"370281": "370281", "胶州市": "370281", "青岛": "370200"} {
		if r, err := Region("region", in, regs); err != nil || r.Code != want {
			t.Errorf("Region(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for in, want := range map[string]string{
		"朝阳区":     `参数无效:region="朝阳区",应为GB/T 2260 地区代码或唯一的地区名称 (地区名称 "朝阳区" 不唯一 (ambiguous region), 可指 110105 北京市朝阳区、220104 吉林省长春市朝阳区`,
		"火星":      `参数无效:region="火星",应为GB/T 2260 地区代码或省、市、县名称`,
		" 370281": `region=" 370281"`,
	} {
		_, err := Region("region", in, regs)
		var pe *Error
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), want) && !strings.Contains(err.Error(), want) {
			t.Errorf("Region(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestWindowAndPage(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	from, to, err := Window("", "", 90*24*time.Hour, now)
	if err != nil || !to.Equal(now) || !from.Equal(now.Add(-90*24*time.Hour)) {
		t.Errorf("default window = %v–%v %v", from, to, err)
	}
	from, to, err = Window("2025-12-31", "2026-01-31", time.Hour, now)
	if err != nil || !from.Equal(time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)) || !to.Equal(time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("dates = %v–%v %v", from, to, err)
	}
	for name, args := range map[string][2]string{"from": {`" or true`, ""}, "to": {"", "2026-02-30"}} {
		_, _, err := Window(args[0], args[1], time.Hour, now)
		var pe *Error
		if !errors.As(err, &pe) || pe.Name != name {
			t.Errorf("Window(%q, %q) = %v, want an error naming %s", args[0], args[1], err, name)
		}
	}
	if _, _, err := Window("2026-02-01", "2026-01-01", time.Hour, now); err == nil {
		t.Error("from after to accepted")
	}
	for v, want := range map[string]int{"": 1, "3": 3} {
		if n, err := Page(v); err != nil || n != want {
			t.Errorf("Page(%q) = %d %v", v, n, err)
		}
	}
	for _, v := range []string{"0", "-1", "x", "100001", "1e3"} {
		if _, err := Page(v); err == nil {
			t.Errorf("Page(%q) accepted", v)
		}
	}
}
