package evaluate

import "testing"

// Every status has a Chinese and an English label, and the Chinese ones are
// those of the scorecard (one place for the CLI and the web).
func TestStatusLabels(t *testing.T) {
	want := map[Status]string{Achieved: "已达标", OnTrack: "按进度", AtRisk: "滞后", OffTrack: "严重滞后", Missed: "未达标", NoData: "无数据"}
	for _, s := range Statuses {
		if got := s.Label("zh"); got != want[s] {
			t.Errorf("%s.Label(zh) = %q, want %q", s, got, want[s])
		}
		if en := s.Label("en"); en == "" || en == s.Label("zh") {
			t.Errorf("%s.Label(en) = %q", s, en)
		}
	}
	if got := Status("bogus").Label("zh"); got != "bogus" {
		t.Errorf("unknown status label = %q", got)
	}
	if UntrackedLabel("zh") != "不可量化跟踪" {
		t.Errorf("UntrackedLabel(zh) = %q", UntrackedLabel("zh"))
	}
}

// TestSeverity: one order of the statuses from the worst, and the report's
// "behind" are the four worst.
func TestSeverity(t *testing.T) {
	want := []Status{Missed, OffTrack, AtRisk, NoData, OnTrack, Achieved}
	for i, s := range want {
		if s.Severity() != i {
			t.Errorf("%s.Severity() = %d, want %d", s, s.Severity(), i)
		}
		if s.Behind() != (i <= 3) {
			t.Errorf("%s.Behind() = %v", s, s.Behind())
		}
	}
	if Status("bogus").Severity() <= Achieved.Severity() || Status("bogus").Behind() {
		t.Error("an unknown status ranks among the known ones")
	}
}

// Every basis code has a Chinese and an English table label; an unknown
// code is shown as itself.
func TestBasisLabels(t *testing.T) {
	if got := (Basis{Code: BasisMetEarly}).Label("zh"); got != "提前达标" {
		t.Errorf("met early (zh) = %q", got)
	}
	if got := (Basis{Code: BasisMetEarly}).Label("en"); got != "met early" {
		t.Errorf("met early (en) = %q", got)
	}
	if got := (Basis{Code: "bogus"}).Label("zh"); got != "bogus" {
		t.Errorf("unknown basis label = %q", got)
	}
}
