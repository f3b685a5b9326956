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
	if !errors.As(err, &pe) || pe.Name != "region" || err.Error() != `参数无效 (invalid parameter) region="${r.region}":应为以下之一:370200` {
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
