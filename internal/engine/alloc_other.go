//go:build !linux

package engine

import "github.com/qualitymon/qualitymon/internal/evaluate"

// newEvaluations allocates n evaluations (on Linux with a huge-page hint).
func newEvaluations(n int) []evaluate.Evaluation { return make([]evaluate.Evaluation, n) }
