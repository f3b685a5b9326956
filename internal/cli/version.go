package cli

import (
	"encoding/json"
	"fmt"

	"github.com/alecthomas/kong"

	"github.com/qualitymon/qualitymon/internal/version"
)

// versionFlag is --version: print the one-line version and exit 0 before any
// command runs.
type versionFlag bool

func (versionFlag) BeforeReset(app *kong.Kong) error {
	fmt.Fprintln(app.Stdout, version.Get())
	app.Exit(0)
	return nil
}

type versionCmd struct {
	Format string `help:"text or json." default:"text" enum:"text,json"`
}

func (c *versionCmd) Run(env *Env) error {
	in := version.Get()
	if c.Format == "json" {
		return newJSONEncoder(env.Stdout).Encode(in)
	}
	_, err := fmt.Fprintf(env.Stdout, "qualitymon %s\n  revision:   %s\n  build date: %s\n  go version: %s\n  platform:   %s\n",
		in.Version, in.Revision, in.BuildDate, in.GoVersion, in.Platform)
	return err
}

// newJSONEncoder is the JSON every command prints: indented, and without
// HTML escaping (">=" stays ">=", not "\u003e=").
func newJSONEncoder(w interface{ Write([]byte) (int, error) }) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc
}
