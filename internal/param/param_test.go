package param

import (
	"errors"
	"strings"
	"testing"
	"time"
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
