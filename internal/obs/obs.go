// Package obs defines the observation: one reported figure of an indicator for
// a region and a period, with where it came from.
package obs

import (
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
)

// Observation is indicator × region × period → value.
type Observation struct {
	Indicator string        `json:"indicator"`
	Region    string        `json:"region"`
	Period    period.Period `json:"-"`
	Value     float64       `json:"value"`
	Source    string        `json:"source,omitempty"`
	Note      string        `json:"note,omitempty"`
}

// Key identifies an observation; reporting the same key again is a revision.
type Key struct {
	Indicator string
	Region    string
	Period    period.Period
}

// Key returns the observation's key.
func (o *Observation) Key() Key { return Key{o.Indicator, o.Region, o.Period} }

// Stored is an observation as held by the store.
type Stored struct {
	Observation
	// Revision counts the earlier values this key had (0 for the first report).
	Revision   int
	ReportedAt time.Time
}
