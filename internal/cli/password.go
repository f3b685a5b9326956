package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/qualitymon/qualitymon/internal/access"
)

type passwordCmd struct {
	Hash passwordHashCmd `cmd:"" help:"Read a web user's password (asked twice on a terminal, else the first line of standard input) and print the bcrypt hash that web.auth.users[].password_bcrypt holds."`
}

type passwordHashCmd struct{}

func (c *passwordHashCmd) Run(env *Env, in *stdin) error {
	pw, err := readPassword(env, in)
	if err != nil {
		return err
	}
	h, err := access.HashPassword(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, h)
	return nil
}

// readPassword asks on the terminal, without echo and twice, or reads the
// first line of standard input (a pipe, a file).
func readPassword(env *Env, in *stdin) (string, error) {
	if f, ok := in.r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(env.Stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			return string(b), err
		}
		pw, err := ask("Password: ")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		again, err := ask("Again: ")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if pw != again {
			return "", fmt.Errorf("the two passwords differ")
		}
		if pw == "" {
			return "", fmt.Errorf("empty password")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(in.r).ReadString('\n')
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		if err != nil {
			return "", fmt.Errorf("no password on standard input")
		}
		return "", fmt.Errorf("empty password")
	}
	return pw, nil
}
