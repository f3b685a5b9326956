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
