// Command qualitymon tells provincial and city governments whether their
// quality plans' targets are coming true. See the README for the commands.
package main

import (
	"os"

	"github.com/qualitymon/qualitymon/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}
