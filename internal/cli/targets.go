package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/qualitymon/qualitymon/internal/plan"
)

type targetsCmd struct {
	Plan   string `help:"Only this plan (e.g. shandong-2018)."`
	Format string `help:"table or json." default:"table" enum:"table,json"`
}

// targetJSON is the documented JSON shape of a target.
type targetJSON struct {
	Plan         string          `json:"plan"`
	ID           string          `json:"id"`
	Indicator    string          `json:"indicator"`
	NameZh       string          `json:"name_zh"`
	NameEn       string          `json:"name_en"`
	Region       string          `json:"region"`
	Regions      []string        `json:"regions,omitempty"`
	AverageOf    []string        `json:"average_of,omitempty"`
	Comparator   string          `json:"comparator"`
	Value        float64         `json:"value"`
	Unit         string          `json:"unit"`
	Deadline     *int            `json:"deadline"`
	Baseline     *plan.Baseline  `json:"baseline,omitempty"`
	Increment    *float64        `json:"increment,omitempty"`
	Modality     string          `json:"modality"`
	Quotas       map[int]float64 `json:"quotas,omitempty"`
	LeadAgencies []string        `json:"lead_agencies"`
	Agencies     []string        `json:"agencies"`
	Clause       string          `json:"clause"`
	Quote        string          `json:"quote"`
	Printed      string          `json:"printed,omitempty"`
	Note         string          `json:"note,omitempty"`
}

func toJSON(t *plan.Target) targetJSON {
	j := targetJSON{
		Plan: t.Plan.Key, ID: t.ID, Indicator: t.Indicator, NameZh: t.Ind.NameZh, NameEn: t.Ind.NameEn,
		Comparator: t.Comparator, Value: *t.Value, Unit: t.Ind.Unit, Baseline: t.Baseline, Increment: t.Increment,
		Modality: t.Modality, Quotas: t.Quotas, LeadAgencies: t.LeadAgencies, Agencies: t.Agencies,
		Clause: t.Clause, Quote: t.Quote, Printed: t.Printed, Note: t.Note, AverageOf: t.AverageOf,
	}
	if j.LeadAgencies == nil {
		j.LeadAgencies = []string{}
	}
	if j.Agencies == nil {
		j.Agencies = []string{}
	}
	if t.Deadline != 0 {
		d := t.Deadline
		j.Deadline = &d
	}
	if len(t.Units) == 1 {
		j.Region = t.Units[0]
	} else {
		j.Region = t.Plan.Region
		j.Regions = t.Units
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
	if c.Format == "json" {
		out := make([]targetJSON, 0, len(ts))
		for _, t := range ts {
			out = append(out, toJSON(t))
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "PLAN\tTARGET\tREGION\tCMP\tVALUE\tUNIT\tDEADLINE\tMODALITY\tINDICATOR")
	for _, t := range ts {
		j := toJSON(t)
		dl := "-"
		if j.Deadline != nil {
			dl = fmt.Sprint(*j.Deadline)
		}
		reg := j.Region
		if len(j.Regions) > 0 {
			reg = fmt.Sprintf("%d regions", len(j.Regions))
		}
		if len(j.AverageOf) > 0 {
			reg = fmt.Sprintf("avg of %d", len(j.AverageOf))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%g\t%s\t%s\t%s\t%s\n", j.Plan, j.ID, reg, j.Comparator, j.Value, j.Unit, dl, j.Modality, j.NameZh)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	plans := len(set.Plans)
	if c.Plan != "" {
		plans = 1
	}
	fmt.Fprintf(env.Stdout, "\n%d targets in %d plan(s)\n", len(ts), plans)
	return nil
}
