package cli

import (
	"github.com/qualitymon/qualitymon/internal/sample"
)

type sampleCmd struct {
	Through int `help:"Last year to generate figures for." default:"2025"`
}

func (c *sampleCmd) Run(g *globals, env *Env) error {
	set, err := g.loadTargets(nil)
	if err != nil {
		return err
	}
	return sample.WriteCSV(env.Stdout, sample.Generate(set, c.Through))
}
