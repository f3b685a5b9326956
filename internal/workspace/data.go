package workspace

import (
	"time"
)

// DueGrid is the 报送情况 of one reporter.
type DueGrid struct {
	Rows []DueRow
	// Expected periods due, Received of them, OnTime of those, Overdue
	// (not received after the publication lag).
	Expected, Received, OnTime, Overdue, Missing, Pending int
	// RatePct is the reporting rate (received / expected) and
	// TimelinessPct the share of the received that came on time, in percent.
	RatePct, TimelinessPct float64
}

// DueRow is one indicator × region.
type DueRow struct {
	Indicator, IndicatorName, Unit string
	Region, RegionName             string
	Cells                          []DueCell
}

// Due states.
const (
	DueReported = "reported" // 已报送
	DueMissing  = "missing"  // 未报送 (not yet overdue)
	DueOverdue  = "overdue"  // 逾期
	DuePending  = "pending"  // 待审核
)

// DueCell is one period.
type DueCell struct {
	Period string
	// Key names the cell's fields in the due grid's form (网页填报), Owed
	// says it is still to report (未报送 or 逾期: it has the fields).
	Key   string
	Owed  bool
	State string
	// DueBy is the last day to report on time (the period's end plus the
	// indicator's publication lag).
	DueBy time.Time
	// Value, At and By describe the figure received (reported).
	Value string
	At    time.Time
	By    string
	// Source is the figure's source when who sent it is not known (an
	// import, a collector).
	Source string
	Late   bool
}

// Held is one upload waiting for review.
type Held struct {
	ID, Bureau, Contact, File string
	At                        time.Time
	Rows                      []DiffRow
	New, Revised, Unchanged   int
	// Warnings counts the rows with a Warning.
	Warnings int
	// Own: an upload of the reviewer's own bureau, which another reviewer
	// approves (review.hold_reviewers_own).
	Own bool
}

// DiffRow is one figure of a held upload against the current value.
type DiffRow struct {
	Indicator, IndicatorName, Region, RegionName, Period, Unit string
	Value                                                      string
	// Source and Note are the submitted figure's 来源 and 备注.
	Source, Note string
	// Current is the value held now ("" when none), with its source, note
	// and report time; Difference is Value − Current ("" without one).
	// Change is "new", "revised" or "unchanged".
	Current, CurrentSource, CurrentNote string
	CurrentAt                           *time.Time
	Difference, Change                  string
	// Warning says why the value looks implausible against the previous
	// period (ingest.Implausible: 请核实), "" when it does not.
	Warning string
}

// Decision is what a reviewer did with a held upload (or that it waits).
type Decision struct {
	ID, Bureau, File, Reviewer, Comment string
	// State is "pending", "storing" (approved, rows not yet in the
	// spool), "approved" (and stored) or "returned".
	State    string
	Uploaded time.Time
	At       time.Time
	Rows     int
}
