package evaluate

// Status of a target at a moment.
type Status string

// The statuses, in the order metrics and tables list them.
const (
	Achieved Status = "achieved"
	OnTrack  Status = "on_track"
	AtRisk   Status = "at_risk"
	OffTrack Status = "off_track"
	Missed   Status = "missed"
	NoData   Status = "no_data"
)

// Statuses lists every status.
var Statuses = []Status{Achieved, OnTrack, AtRisk, OffTrack, Missed, NoData}

// Code is a stable number per status (stored with evaluations for charting).
func (s Status) Code() int {
	for i, x := range Statuses {
		if x == s {
			return i
		}
	}
	return -1
}

// bySeverity lists the statuses from the worst to the best: how the
// scorecard sorts by status and the report lists the targets behind.
var bySeverity = []Status{Missed, OffTrack, AtRisk, NoData, OnTrack, Achieved}

// Severity ranks the status from the worst (0, missed) to the best
// (achieved): missed, off track, at risk, no data, on track, achieved. An
// unknown status ranks after every known one.
func (s Status) Severity() int {
	for i, x := range bySeverity {
		if x == s {
			return i
		}
	}
	return len(bySeverity)
}

// Behind says whether the status is one of a target behind its plan, the
// report's list of what needs attention: missed, off track, at risk or no
// data.
func (s Status) Behind() bool { return s.Severity() <= NoData.Severity() }

// Thresholds of the progress ratio (projected progress / required progress).
const (
	OnTrackRatio  = 0.95
	OffTrackRatio = 0.10
)

// fromRatio maps a progress ratio to a status before the deadline.
// A tiny tolerance keeps hand-computed boundaries (0.6/6 = 0.1) on the
// side a person would put them.
func fromRatio(r float64) Status {
	const eps = 1e-9
	r += eps
	switch {
	case r >= OnTrackRatio:
		return OnTrack
	case r >= OffTrackRatio:
		return AtRisk
	}
	return OffTrack
}

// statusLabels name the statuses for people ([zh, en]); JSON and metrics
// keep the ids.
var statusLabels = map[Status][2]string{
	Achieved: {"已达标", "achieved"},
	OnTrack:  {"按进度", "on track"},
	AtRisk:   {"滞后", "at risk"},
	OffTrack: {"严重滞后", "off track"},
	Missed:   {"未达标", "missed"},
	NoData:   {"无数据", "no data"},
}

// Label names the status for people in lang ("zh" or "en"): 已达标,
// 按进度, 滞后, 严重滞后, 未达标, 无数据. The id itself when unknown.
func (s Status) Label(lang string) string {
	if l, ok := statusLabels[s]; ok {
		return inLang(l, lang)
	}
	return string(s)
}

// UntrackedLabel names a commitment that is listed but never judged
// (plan tracked: false).
func UntrackedLabel(lang string) string {
	if lang == "zh" {
		return "不可量化跟踪"
	}
	return "not trackable"
}
