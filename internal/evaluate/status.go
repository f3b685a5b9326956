// Package evaluate judges every target of every plan against the observations
// held: the latest actual, the gap, the projection to the deadline and a
// status in the style of the UN SDG Progress Chart (see DESIGN.md).
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
