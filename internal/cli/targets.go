package cli

import (
	"github.com/qualitymon/qualitymon/internal/plan"
)

type targetsCmd struct {
	Plan        string `help:"Only this plan (e.g. shandong-2018)."`
	outputFlags `embed:""`
}

// targetJSON is the documented JSON shape of a target.
type targetJSON struct {
	Plan       string           `json:"plan"`
	ID         string           `json:"id"`
	Indicator  string           `json:"indicator"`
	NameZh     string           `json:"name_zh"`
	NameEn     string           `json:"name_en"`
	Wording    string           `json:"wording"`
	Tracked    bool             `json:"tracked"`
	Reason     string           `json:"reason,omitempty"`
	Region     string           `json:"region"`
	Regions    []string         `json:"regions,omitempty"`
	AverageOf  []string         `json:"average_of,omitempty"`
	Comparator string           `json:"comparator"`
	Value      *float64         `json:"value"`
	MultipleOf *plan.MultipleOf `json:"multiple_of,omitempty"`
	Unit       string           `json:"unit"`
	Deadline   *int             `json:"deadline"`
	// DeadlineFromHorizon: the text prints no deadline; the plan's horizon applies.
	DeadlineFromHorizon bool            `json:"deadline_from_horizon,omitempty"`
	Baseline            *plan.Baseline  `json:"baseline,omitempty"`
	Increment           *float64        `json:"increment,omitempty"`
	Modality            string          `json:"modality"`
	Quotas              map[int]float64 `json:"quotas,omitempty"`
	LeadAgencies        []string        `json:"lead_agencies"`
	Agencies            []string        `json:"agencies"`
	Clause              string          `json:"clause"`
	Quote               string          `json:"quote"`
	Printed             string          `json:"printed,omitempty"`
	Note                string          `json:"note,omitempty"`
}

func toJSON(t *plan.Target) targetJSON {
	j := targetJSON{
		Plan: t.Plan.Key, ID: t.ID, Indicator: t.Indicator, Wording: t.Name(), Tracked: t.IsTracked(), Reason: t.Reason,
		Comparator: t.Comparator, Value: t.Value, MultipleOf: t.MultipleOf, Baseline: t.Baseline, Increment: t.Increment,
		Modality: t.Modality, Quotas: t.Quotas, LeadAgencies: t.LeadAgencies, Agencies: t.Agencies,
		Clause: t.Clause, Quote: t.Quote, Printed: t.Printed, Note: t.Note, AverageOf: t.AverageOf,
	}
	if t.Ind != nil {
		j.NameZh, j.NameEn, j.Unit = t.Ind.NameZh, t.Ind.NameEn, t.Ind.Unit
	}
	if j.LeadAgencies == nil {
		j.LeadAgencies = []string{}
	}
	if j.Agencies == nil {
		j.Agencies = []string{}
	}
	if t.IsTracked() {
		d := t.Due()
		j.Deadline = &d
		j.DeadlineFromHorizon = t.Deadline == 0
	}
	if len(t.Units) == 1 {
		j.Region = t.Units[0]
	} else {
		j.Region = t.Plan.Region
		if len(t.Units) > 1 {
			j.Regions = t.Units
		}
	}
	return j
}

func (c *targetsCmd) Run(g *globals, env *Env) error {
	set, err := g.loadTargets(nil)
	if err != nil {
		return err
	}
	if err := set.CheckPlan(c.Plan); err != nil {
		return err
	}
	ts := set.Targets(c.Plan)
	out := make([]targetJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toJSON(t))
	}
	switch c.Format {
	case "json":
		return newJSONEncoder(env.Stdout).Encode(out)
	case "csv":
		return writeRows(env.Stdout, c.outputFlags, targetColumns, out)
	}
	if err := writeRows(env.Stdout, c.outputFlags, targetColumns, out); err != nil {
		return err
	}
	plans := len(set.Plans)
	if c.Plan != "" {
		plans = 1
	}
	return targetsSummary(env.Stdout, len(ts), plans, c.Lang)
}
