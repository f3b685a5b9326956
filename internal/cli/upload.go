package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/qualitymon/qualitymon/internal/upload"
)

type uploadCmd struct {
	Args []string `arg:"" optional:"" passthrough:"" help:"--server URL --token TOKEN [--dry-run] [--timeout 5m] FILE.csv|FILE.xlsx ... (token also from QUALITYMON_UPLOAD_TOKEN)"`
}

func (c *uploadCmd) Run(g *globals, env *Env) error {
	if code := upload.RunClient(env.Ctx, c.Args, env.Getenv, env.Stdout, env.Stderr); code != 0 {
		return exitError{code}
	}
	return nil
}

type tokenCmd struct {
	New  tokenNewCmd  `cmd:"" help:"Make a new random upload token and print it with the SHA-256 hash to put in the config."`
	Hash tokenHashCmd `cmd:"" help:"Read a token on standard input and print its SHA-256 hash (what uploads.tokens[].token_sha256 holds)."`
}

type tokenNewCmd struct{}

func (c *tokenNewCmd) Run(env *Env) error {
	tok, hash, err := upload.NewToken()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "token:        %s   (give this to the bureau; it is not stored)\ntoken_sha256: %s   (put this in qualitymon.yaml)\n", tok, hash)
	return nil
}

type tokenHashCmd struct{}

func (c *tokenHashCmd) Run(env *Env, in *stdin) error {
	line, err := bufio.NewReader(in.r).ReadString('\n')
	tok := strings.TrimSpace(line)
	if tok == "" {
		if err != nil {
			return fmt.Errorf("no token on standard input")
		}
		return fmt.Errorf("empty token")
	}
	fmt.Fprintln(env.Stdout, upload.HashToken(tok))
	return nil
}
