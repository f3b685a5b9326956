package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/qualitymon/qualitymon/internal/derive"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// Pipeline is the one path every reported figure takes: read → validate →
// scope → derive check → sink. Uploads and collectors call Ingest;
// `qualitymon import` streams through the same Validator and check
// (internal/bulk).
type Pipeline struct {
	Validator *Validator
	// Derived are the catalogue's derivation rules (nil: none). Derived
	// figures are not stored (they are computed when the figures are read,
	// internal/derive); the batch is refused when a figure derived from
	// its own rows falls outside its valid range (CheckDerived).
	Derived *derive.Rules
	// Sink receives the accepted batch (the spool in serve, the store in
	// tools); nil checks only.
	Sink observation.Sink
	// History, when set, holds the previous periods' values that the
	// plausibility check compares each figure with (Warnings): one read
	// per input. Nil: the input's own previous periods only.
	History History
}

// Input is one batch to ingest: the rows of a file (Source), or figures a
// collector has already typed (Observations), which are validated again.
type Input struct {
	// Name is the file or batch name, in errors.
	Name         string
	Source       Source
	Observations []observation.Observation
	// Scope, when set, refuses rows outside the reporter's regions and
	// indicators (uploads).
	Scope *Scope
	Meta  observation.Meta
	// DryRun validates, scopes and derives, and stores nothing.
	DryRun bool
	// Plausible checks each figure against the previous period (Warnings:
	// uploads, where a person can confirm them). ConfirmWarnings: the
	// reporter has confirmed the warnings (已核实); without it an input with
	// warnings is refused with a *WarningsError (a dry run lists them and
	// is not refused).
	Plausible, ConfirmWarnings bool
}

// Outcome is what an accepted input did.
type Outcome struct {
	observation.Result
	// Rows is how many rows the input had.
	Rows int
	// Warnings are the first MaxWarnings figures that look implausible
	// against the previous period (Warnings), WarningCount how many there
	// are; HistoryErr says why the stored previous values could not be
	// read (the check then used the input's own only).
	Warnings     []Warning
	WarningCount int
	HistoryErr   error
}

// ScopeError is the refusal of an input with rows outside the reporter's
// scope: Errors is every error of the input, the rows outside the scope
// (Error.OutOfScope) and every other, found in the same pass.
type ScopeError struct{ Errors Errors }

func (e *ScopeError) Error() string { return e.Errors.Error() }

// OnlyScope says whether every error is a row outside the scope (an upload
// answers 403; with any other error, 422).
func (e *ScopeError) OnlyScope() bool {
	for _, x := range e.Errors {
		if !x.OutOfScope {
			return false
		}
	}
	return true
}

// Ingest runs the pipeline over one input. An input with any error is
// refused whole: nothing reaches the sink. The error is a *ScopeError
// (with every error of the input) when rows lie outside the scope,
// ingest.Errors for invalid rows or figures that contradict each other once
// derived, a *WarningsError when implausible figures were not confirmed,
// or the sink's error.
func (p *Pipeline) Ingest(ctx context.Context, in Input) (Outcome, error) {
	v := *p.Validator
	v.Scope = in.Scope
	src := in.Source
	if src == nil {
		src = Typed(in.Name, in.Observations)
	}
	batch, rows, err := v.readAll(src)
	if err != nil {
		var errs Errors
		if errors.As(err, &errs) && slices.ContainsFunc(errs, func(e *Error) bool { return e.OutOfScope }) {
			return Outcome{}, &ScopeError{Errors: errs}
		}
		return Outcome{}, err
	}
	out := Outcome{Rows: len(batch)}
	if err := CheckDerived(p.Derived, in.Name, batch); err != nil {
		return Outcome{}, err
	}
	all := batch
	if in.Plausible {
		var prev map[observation.Key]float64
		if keys := PreviousKeys(batch); p.History != nil && len(keys) > 0 {
			prev, out.HistoryErr = p.History.CurrentValues(ctx, keys)
		}
		out.Warnings, out.WarningCount = Warnings(v.Catalog, in.Name, batch, rows, prev)
		if out.WarningCount > 0 && !in.DryRun && !in.ConfirmWarnings {
			return out, &WarningsError{Warnings: out.Warnings, Count: out.WarningCount}
		}
	}
	if in.DryRun || p.Sink == nil || len(all) == 0 {
		out.Accepted = len(all)
		return out, nil
	}
	res, err := p.Sink.Accept(ctx, all, in.Meta)
	if err != nil {
		return Outcome{}, err
	}
	out.Result = res
	return out, nil
}

// Typed reads already-typed observations as raw rows (numbered from 1), so
// that they pass through the same Validator as any file.
func Typed(name string, obs []observation.Observation) Source { return &typed{name: name, obs: obs} }

type typed struct {
	name string
	obs  []observation.Observation
	i    int
}

func (t *typed) Next() (*Raw, error) {
	if t.i >= len(t.obs) {
		return nil, io.EOF
	}
	o := &t.obs[t.i]
	t.i++
	return &Raw{File: t.name, Row: t.i, Cells: map[string]string{
		ColIndicator: o.Indicator, ColRegion: o.Region, ColPeriod: o.Period.String(),
		ColValue: strconv.FormatFloat(o.Value, 'f', -1, 64), ColSource: o.Source, ColNote: o.Note,
	}}, nil
}

// NewPipeline builds the pipeline over v's catalogue and region table, with
// the catalogue's derived indicators, into sink.
func NewPipeline(v *Validator, sink observation.Sink) (*Pipeline, error) {
	d, err := derive.New(v.Catalog, v.Regions)
	if err != nil {
		return nil, fmt.Errorf("derived indicators: %w", err)
	}
	return &Pipeline{Validator: v, Derived: d, Sink: sink}, nil
}

// CheckDerived derives what the batch's own rows give (derive.Rules.Batch)
// and refuses the batch, naming it, when a derived value falls outside its
// indicator's valid range: its figures contradict each other (a numerator
// above its denominator). Nothing derived is kept: the read path computes
// derived figures from everything stored. A derived value out of range only
// with figures stored earlier is named in the basis of the evaluation
// instead (derive.Skipped).
func CheckDerived(r *derive.Rules, name string, batch []observation.Observation) error {
	_, bad := r.Batch(batch)
	if len(bad) == 0 {
		return nil
	}
	var errs Errors
	for _, f := range bad {
		ind, _ := r.Indicator(f.Indicator)
		errs = append(errs, &Error{File: name, Column: "derived " + f.Indicator, Value: fmt.Sprint(f.Value),
			Message:  fmt.Sprintf("%s for %s %s is %v, outside its valid range (%s)", f.Indicator, f.Region, f.Period, f.Value, f.Note),
			Expected: ind.RangeString()})
	}
	return errs
}

// Name is the batch's name, for errors about the whole batch.
func (t *typed) Name() string { return t.name }
