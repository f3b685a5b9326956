package cli

import (
	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// loadPlan loads the config and the targets, and checks the plan key when
// one is given: the start of every command that reads or judges figures.
func (g *globals) loadPlan(env *Env, planKey string) (*config.Config, *plan.Set, error) {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return nil, nil, err
	}
	set, err := g.loadTargets(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := set.CheckPlan(planKey); err != nil {
		return nil, nil, err
	}
	return cfg, set, nil
}
