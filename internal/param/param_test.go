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
