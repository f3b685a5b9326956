package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EnvToken is the environment variable qualitymon upload reads the token
// from when --token is not given.
const EnvToken = "QUALITYMON_UPLOAD_TOKEN"

// Post uploads the file at path to server (http://host:port) with the
// bearer token. The content type comes from the extension (.csv, .xlsx).
// HTTP answers, accepted or not, come back as a Response with Status set;
// the error is for what prevented an answer (no file, no server, not JSON).
func Post(ctx context.Context, c *http.Client, server, token, path string, dryRun bool) (*Response, error) {
	var ct string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		ct = TypeCSV
	case ".xlsx":
		ct = TypeXLSX
	default:
		return nil, fmt.Errorf("%s: not a .csv or .xlsx file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimRight(server, "/") + Path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want http://host:port", server)
	}
	if dryRun {
		u.RawQuery = "dry_run=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filepath.Base(path)}))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", u.Redacted(), err)
	}
	out := &Response{}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("%s answered %s, not an upload result: %.200s", u.Redacted(), resp.Status, body)
	}
	out.Status = resp.StatusCode
	return out, nil
}

// Print writes a readable account of the answer: the summary, or every
// error as FILE:ROW:COLUMN: message lines, FILE being the local path.
func (r *Response) Print(w io.Writer, path string) {
	if r.Status == http.StatusOK {
		verb := "accepted"
		if r.DryRun {
			verb = "valid (dry run, nothing written)"
		}
		fmt.Fprintf(w, "%s: %s: %d rows", path, verb, r.Accepted)
		if !r.DryRun {
			fmt.Fprintf(w, " (%d new, %d revised, %d unchanged)", r.New, r.Revised, r.Unchanged)
		}
		fmt.Fprintln(w)
		if r.Pending {
			fmt.Fprintln(w, "stored safely; InfluxDB is catching up, the figures appear shortly")
		}
		return
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "%s:%d:%s: %s", path, e.Row, e.Column, e.Message)
		if e.Value != "" {
			fmt.Fprintf(w, " (value %q", e.Value)
			if e.Expected != "" {
				fmt.Fprintf(w, "; expected %s", e.Expected)
			}
			fmt.Fprint(w, ")")
		} else if e.Expected != "" {
			fmt.Fprintf(w, " (expected %s)", e.Expected)
		}
		fmt.Fprintln(w)
	}
	msg := r.Error
	if msg == "" {
		msg = http.StatusText(r.Status)
	}
	fmt.Fprintf(w, "%s: rejected (%d %s): %s\n", path, r.Status, http.StatusText(r.Status), msg)
}

// Exit codes of RunClient.
const (
	ExitAccepted = 0
	ExitRejected = 1 // the server answered no (401, 403, 413, 415, 422, …)
	ExitUsage    = 2 // bad arguments, unreadable file, no answer
)

// RunClient is qualitymon upload: args are the flags and FILE after the
// subcommand (--server URL --token T [--dry-run] [--timeout 2m] FILE...).
func RunClient(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:9737", "qualitymon server `URL`")
	token := fs.String("token", "", "upload `token` (default $"+EnvToken+")")
	dryRun := fs.Bool("dry-run", false, "validate only; write nothing")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long per file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: qualitymon upload --server URL --token TOKEN [--dry-run] FILE.csv|FILE.xlsx ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitAccepted
		}
		return ExitUsage
	}
	if *token == "" && getenv != nil {
		*token = getenv(EnvToken)
	}
	if *token == "" {
		fmt.Fprintf(stderr, "qualitymon upload: no token: pass --token or set %s\n", EnvToken)
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return ExitUsage
	}
	code := ExitAccepted
	client := &http.Client{}
	for _, path := range fs.Args() {
		fctx, cancel := context.WithTimeout(ctx, *timeout)
		resp, err := Post(fctx, client, *server, *token, path, *dryRun)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "qualitymon upload: %v\n", err)
			code = max(code, ExitUsage)
			continue
		}
		if resp.Status == http.StatusOK {
			resp.Print(stdout, path)
		} else {
			resp.Print(stderr, path)
			code = max(code, ExitRejected)
		}
	}
	return code
}
