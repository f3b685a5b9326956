package web

import (
	"html/template"
	"strconv"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// funcs are the scorecard's template helpers beside the shared formatting
// (shell.Funcs): the words and colours of statuses, modalities and
// deadlines; formatting only, no rule.
var funcs = template.FuncMap{
	"label":     func(s evaluate.Status) string { return s.Label("zh") },
	"modality":  modalityLabel,
	"untracked": func() string { return evaluate.UntrackedLabel("zh") },
	"stclass":   statusClass,
	"st":        func(s string) evaluate.Status { return evaluate.Status(s) },
	// clock is a time on its own location's calendar (datetime shows Local).
	"clock": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
	"deadline": func(ev *evaluate.Evaluation) string {
		if ev.Deadline == nil {
			return "—"
		}
		s := strconv.Itoa(*ev.Deadline) + "年"
		if ev.DeadlineFromHorizon {
			s += "(规划期末)"
		}
		return s
	},
}

func modalityLabel(m string) string {
	if l, ok := plan.ModalityZh[m]; ok {
		return l
	}
	return m
}

// statusClass is the CSS class of a status (its colour).
func statusClass(s evaluate.Status) string { return "st-" + string(s) }
