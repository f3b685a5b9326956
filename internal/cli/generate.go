package cli

import (
	"fmt"
	"os"

	"github.com/qualitymon/qualitymon/internal/routes"
)

type generateCmd struct {
	Routes generateRoutesCmd `cmd:"" help:"Write the Alertmanager configuration (route tree plan → lead agency or reporting bureau → receiver) from the plans and a receivers map."`
}

type generateRoutesCmd struct {
	Receivers string `help:"Receivers map (YAML): webhook URL, default and ops receivers, a receiver per plan and lead agency, reporting bureaus and their regions." required:"" type:"existingfile" placeholder:"FILE"`
	Output    string `help:"Write to this file instead of standard output." short:"o" type:"path" placeholder:"FILE"`
}

func (c *generateRoutesCmd) Run(g *globals, env *Env) error {
	data, err := os.ReadFile(c.Receivers)
	if err != nil {
		return err
	}
	rcv, err := routes.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Receivers, err)
	}
	set, err := g.loadTargets(nil)
	if err != nil {
		return err
	}
	out, err := routes.Generate(set, rcv)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Receivers, err)
	}
	if c.Output == "" {
		_, err = env.Stdout.Write(out)
		return err
	}
	return os.WriteFile(c.Output, out, 0o644)
}
