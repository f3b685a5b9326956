package ingest

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// The plausibility thresholds: a figure is worth a second look (a warning,
// never an error) when, against the value of the previous period of the
// same indicator and region,
//   - it changed by an order of magnitude or more (×10, ÷10: a misplaced
//     decimal point, a unit of 万 for 个), whatever the unit;
//   - a percentage moved by more than MaxPointJump percentage points;
//   - any other figure (a level: a count, an index, a concentration)
//     moved by more than MaxRelativeJump of the previous value.
const (
	MagnitudeFactor = 10
	MaxPointJump    = 10.0
	MaxRelativeJump = 0.5
)

// Warning is a figure that passed validation but looks implausible against
// the series' history: the clerk confirms it (已核实) before it is stored,
// and reviewers see it. Message is in Chinese.
type Warning struct {
	File           string  `json:"file"`
	Row            int     `json:"row,omitempty"`
	Indicator      string  `json:"indicator"`
	Region         string  `json:"region"`
	Period         string  `json:"period"`
	Value          float64 `json:"value"`
	PreviousPeriod string  `json:"previous_period"`
	Previous       float64 `json:"previous"`
	Message        string  `json:"message"`
}

// History gives the current values of keys (one call for all of them):
// serve's engine.Engine.CurrentValues, from the figures the evaluation holds,
// or store.Store.CurrentValues, read from InfluxDB.
type History interface {
	CurrentValues(ctx context.Context, keys []observation.Key) (map[observation.Key]float64, error)
}

// WarningsError refuses an input whose warnings were not confirmed
// (Input.ConfirmWarnings): an upload answers 409 naming them. Count is how
// many figures need confirming, Warnings the first MaxWarnings of them.
type WarningsError struct {
	Warnings []Warning
	Count    int
}

func (e *WarningsError) Error() string {
	return fmt.Sprintf("%d figures need confirming (请核实), first %s/%s/%s: %s", e.Count,
		e.Warnings[0].Indicator, e.Warnings[0].Region, e.Warnings[0].Period, e.Warnings[0].Message)
}

// Implausible says, in Chinese, why value looks wrong after prev (the
// previous period's value) for an indicator of this unit, or "" when it
// does not.
func Implausible(unit string, prev, value float64) string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if prev != 0 && value != 0 && (prev > 0) == (value > 0) {
		r := value / prev
		if r >= MagnitudeFactor || r <= 1.0/MagnitudeFactor {
			dir := "增大"
			if r < 1 {
				dir, r = "减小", 1/r
			}
			return fmt.Sprintf("与上期 %s 相比%s约 %s 倍(数量级变化),请核实是否填错小数点或单位", num(prev), dir, num(math.Round(r*10)/10))
		}
	}
	d := value - prev
	if unit == "percent" {
		if math.Abs(d) > MaxPointJump {
			return fmt.Sprintf("与上期 %s%% 相比%s %s 个百分点(超过 %s 个百分点),请核实", num(prev), upDown(d), num(math.Round(math.Abs(d)*100)/100), num(MaxPointJump))
		}
		return ""
	}
	if prev != 0 && math.Abs(d/prev) > MaxRelativeJump {
		return fmt.Sprintf("与上期 %s 相比%s %s%%(超过 %s%%),请核实", num(prev), upDown(d), num(math.Round(math.Abs(d/prev)*1000)/10), num(MaxRelativeJump*100))
	}
	return ""
}

func upDown(d float64) string {
	if d < 0 {
		return "下降"
	}
	return "上升"
}

// PreviousKeys are the keys of the periods before the batch's that the
// batch does not hold itself (what a History is asked for).
func PreviousKeys(batch []observation.Observation) []observation.Key {
	in := make(map[observation.Key]bool, len(batch))
	for i := range batch {
		in[batch[i].Key()] = true
	}
	var out []observation.Key
	for i := range batch {
		k := batch[i].Key()
		k.Period = k.Period.Prev()
		if !in[k] {
			in[k] = true
			out = append(out, k)
		}
	}
	return out
}

// MaxWarnings is how many warnings of one input are listed (all are
// counted): an answer about a large file stays small.
const MaxWarnings = 1000

// Warnings compares each figure of batch with the previous period's value
// of its indicator and region — the batch's own when it has it, else prev
// (the stored values) — and lists the first MaxWarnings implausible ones;
// count is how many there are. rows numbers the batch's figures (nil:
// unnumbered).
func Warnings(cat *catalog.Catalog, file string, batch []observation.Observation, rows []int, prev map[observation.Key]float64) (list []Warning, count int) {
	own := make(map[observation.Key]float64, len(batch))
	for i := range batch {
		own[batch[i].Key()] = batch[i].Value
	}
	var out []Warning
	for i := range batch {
		o := &batch[i]
		ind, ok := cat.Get(o.Indicator)
		if !ok {
			continue
		}
		k := o.Key()
		k.Period = k.Period.Prev()
		p, ok := own[k]
		if !ok {
			if p, ok = prev[k]; !ok {
				continue
			}
		}
		msg := Implausible(ind.Unit, p, o.Value)
		if msg == "" {
			continue
		}
		if count++; count > MaxWarnings {
			continue
		}
		w := Warning{File: file, Indicator: o.Indicator, Region: o.Region, Period: o.Period.String(), Value: o.Value,
			PreviousPeriod: k.Period.String(), Previous: p, Message: msg}
		if rows != nil {
			w.Row = rows[i]
		}
		out = append(out, w)
	}
	return out, count
}
