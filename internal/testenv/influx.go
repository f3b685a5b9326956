package testenv

import (
	"debug/buildinfo"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// InfluxModule is the Go module influxd is built from.
	InfluxModule = "github.com/influxdata/influxdb"
	// InfluxVersion is the InfluxDB version the tests run.
	InfluxVersion = "v1.8.10"
	// DefaultDatabase is created on every new server.
	DefaultDatabase = "qualitymon"
	// DefaultBucket is the v2 bucket name of DefaultDatabase.
	DefaultBucket = DefaultDatabase + "/autogen"
)

// installHint tells how to get influxd where the tests look for it.
const installHint = "run scripts/influxdb.sh install (or scripts/test.sh, which does) to put influxd " +
	InfluxVersion + " in .tools/bin, or set QUALITYMON_INFLUXD"

// StartTimeout bounds how long StartInflux and Restart wait for /ping.
// Start-up takes about 5 s on an idle 2-CPU machine; parallel test binaries
// compete for the CPU, hence the margin.
var StartTimeout = 90 * time.Second

// Influx is a running influxd. Its exported fields are what a client needs.
type Influx struct {
	URL      string // http://127.0.0.1:PORT
	Bucket   string // "qualitymon/autogen"
	Org      string // "-" (ignored by InfluxDB 1.8)
	Token    string // "" (auth is off)
	Database string // "qualitymon"
	RPCAddr  string // 127.0.0.1:PORT, the backup/restore service (influxd backup -host)

	Dir     string // holds influxdb.conf, meta/, data/, wal/ and influxd.log
	LogPath string // influxd's stdout and stderr
	Binary  string // the influxd executable

	mu     sync.Mutex
	proc   *Process
	shared bool
}

// Series is one series of an InfluxQL result.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// StartInflux starts a private influxd with its data in tb.TempDir(),
// creates the database "qualitymon" and stops the server when the test ends.
func StartInflux(tb testing.TB) *Influx {
	tb.Helper()
	bin, err := InfluxBinary()
	if err != nil {
		influxMissing(tb, err, "")
	}
	s, err := startInflux(bin, tb.TempDir())
	if err != nil {
		influxMissing(tb, err, s.logTail())
	}
	tb.Cleanup(s.Stop)
	return s
}

var shared struct {
	once sync.Once
	srv  *Influx
	err  error
	log  string
	dir  string
}

// SharedInflux returns the server shared by all tests of this test binary,
// starting it on first use. Stop it with Main or Cleanup.
func SharedInflux(tb testing.TB) *Influx {
	tb.Helper()
	shared.once.Do(func() {
		bin, err := InfluxBinary()
		if err != nil {
			shared.err = err
			return
		}
		removeStaleSharedDirs()
		dir, err := os.MkdirTemp("", sharedDirPrefix)
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		s, err := startInflux(bin, dir)
		if err != nil {
			shared.err, shared.log = err, s.logTail()
			return
		}
		s.shared = true
		shared.srv = s
	})
	if shared.err != nil {
		influxMissing(tb, shared.err, shared.log)
	}
	if !shared.srv.Running() {
		tb.Fatalf("testenv: the shared influxd is not running (a test must not stop, kill or restart it)\n%s", shared.srv.logTail())
	}
	return shared.srv
}

const sharedDirPrefix = "testenv-influxd-"

// removeStaleSharedDirs deletes the data of shared servers whose test binary
// exited without calling Cleanup.
func removeStaleSharedDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), sharedDirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && !processAlive(pid) {
			os.RemoveAll(dir)
		}
	}
}

// Cleanup stops the shared server, if one was started, and removes its data.
// Main calls it; a TestMain of its own calls it after m.Run.
func Cleanup() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

func influxMissing(tb testing.TB, err error, logTail string) {
	tb.Helper()
	msg := fmt.Sprintf("testenv: InfluxDB %s unavailable: %v", InfluxVersion, err)
	if logTail != "" {
		msg += "\n--- tail of influxd.log ---\n" + logTail
	}
	Missing(tb, msg)
}

// InfluxBinary returns the influxd to run: $QUALITYMON_INFLUXD, else
// <repo root>/.tools/bin/influxd when it is a build of InfluxDB 1.8.10, else
// influxd on $PATH. It never builds one: scripts/influxdb.sh install does.
func InfluxBinary() (string, error) {
	if p := os.Getenv("QUALITYMON_INFLUXD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("QUALITYMON_INFLUXD: %w", err)
		}
		return p, nil
	}
	tools := "<repo root>/.tools/bin/influxd"
	if root, err := repoRoot(); err == nil {
		tools = filepath.Join(root, ".tools", "bin", "influxd")
		if isWantedBuild(tools) {
			return tools, nil
		}
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("influxd is neither at %s nor on $PATH: %s", tools, installHint)
}

// isWantedBuild reports whether p is an executable built by
// "go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10".
func isWantedBuild(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return false
	}
	bi, err := buildinfo.ReadFile(p)
	return err == nil && bi.Main.Path == InfluxModule && bi.Main.Version == InfluxVersion
}

// withoutEnv returns env without the variables whose names start with prefix.
func withoutEnv(env []string, prefix string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

// startInflux starts bin with its data in dir. On error the returned Influx
// still names the log.
func startInflux(bin, dir string) (*Influx, error) {
	s := &Influx{
		Bucket:   DefaultBucket,
		Org:      "-",
		Database: DefaultDatabase,
		Dir:      dir,
		LogPath:  filepath.Join(dir, "influxd.log"),
		Binary:   bin,
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var httpPort, rpcPort int
		if httpPort, err = freePort(); err != nil {
			return s, err
		}
		if rpcPort, err = freePort(); err != nil {
			return s, err
		}
		if rpcPort == httpPort {
			continue
		}
		if err = s.writeConfig(httpPort, rpcPort); err != nil {
			return s, err
		}
		s.URL = "http://127.0.0.1:" + strconv.Itoa(httpPort)
		s.RPCAddr = "127.0.0.1:" + strconv.Itoa(rpcPort)
		if err = s.launch(); err == nil {
			break
		}
		if !strings.Contains(s.LogTail(5), "address already in use") {
			return s, err
		}
	}
	if err != nil {
		return s, err
	}
	if err := s.CreateDatabase(DefaultDatabase); err != nil {
		s.Kill()
		return s, err
	}
	return s, nil
}

func (s *Influx) configPath() string { return filepath.Join(s.Dir, "influxdb.conf") }

// configTemplate is shared with scripts/influxdb.sh.
//
//go:embed influxdb.conf.tmpl
var configTemplate string

func (s *Influx) writeConfig(httpPort, rpcPort int) error {
	conf := strings.NewReplacer("@DIR@", s.Dir, "@HTTP_PORT@", strconv.Itoa(httpPort), "@RPC_PORT@", strconv.Itoa(rpcPort)).Replace(configTemplate)
	return os.WriteFile(s.configPath(), []byte(conf), 0o644)
}

// launch starts influxd from the config in s.Dir and waits for /ping.
func (s *Influx) launch() error {
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "--- testenv: %s run -config %s (%s)\n", s.Binary, s.configPath(), time.Now().Format(time.RFC3339))
	cmd := exec.Command(s.Binary, "run", "-config", s.configPath())
	// influxd lets INFLUXDB_* variables override its config file.
	cmd.Env = withoutEnv(os.Environ(), "INFLUXDB_")
	p, err := start("influxd", s.LogPath, logf, cmd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	_, err = poll(StartTimeout, p.done, func() (bool, string) {
		resp, err := client.Get(s.URL + "/ping")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNoContent, resp.Status
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errExited):
		return fmt.Errorf("influxd exited during start-up: %v", p.cmd.ProcessState)
	default:
		p.Kill()
		return fmt.Errorf("influxd did not answer %s/ping within %s", s.URL, StartTimeout)
	}
}

func (s *Influx) process() *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// Running reports whether influxd runs (it may still be starting up).
func (s *Influx) Running() bool {
	p := s.process()
	return p != nil && !p.Exited()
}

// Stop stops influxd gracefully (SIGTERM, then SIGKILL after 10 s) and waits
// for it to exit. It does nothing if influxd is not running.
func (s *Influx) Stop() {
	if p := s.process(); p != nil {
		p.Stop()
	}
}

// Kill kills influxd with SIGKILL, as a crash would, and waits for it to exit.
// Data acknowledged by a write is in the WAL and survives a Restart.
func (s *Influx) Kill() {
	if p := s.process(); p != nil {
		p.Kill()
	}
}

// Restart starts influxd again on the same port and data directory, after
// stopping it gracefully if it still runs, and waits until it answers. It
// costs a full start-up (about 5 s). Do not restart the shared server.
func (s *Influx) Restart(tb testing.TB) {
	tb.Helper()
	if s.shared {
		tb.Fatal("testenv: do not restart the shared influxd; use StartInflux for fault tests")
	}
	s.Stop()
	var err error
	for i := 0; i < 5; i++ { // the old listener may linger for a moment
		if err = s.launch(); err == nil || !strings.Contains(s.LogTail(5), "address already in use") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("testenv: restart: %v\n--- tail of influxd.log ---\n%s", err, s.logTail())
	}
}

// Env returns the variables that point qualitymon at this server:
// QUALITYMON_INFLUX_URL, _BUCKET, _ORG and _TOKEN.
func (s *Influx) Env() []string {
	return []string{
		"QUALITYMON_INFLUX_URL=" + s.URL,
		"QUALITYMON_INFLUX_BUCKET=" + s.Bucket,
		"QUALITYMON_INFLUX_ORG=" + s.Org,
		"QUALITYMON_INFLUX_TOKEN=" + s.Token,
	}
}

var bucketSeq atomic.Int64

// NewBucket creates a fresh, empty database and returns its bucket name
// ("<db>/autogen"), to isolate a test on the Shared server. The database is
// dropped when the test ends.
func (s *Influx) NewBucket(tb testing.TB) string {
	tb.Helper()
	db := fmt.Sprintf("t%d_%d", os.Getpid(), bucketSeq.Add(1))
	if err := s.CreateDatabase(db); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() {
		if s.Running() {
			s.influxQL("", "DROP DATABASE "+quoteIdent(db))
		}
	})
	return db + "/autogen"
}

// CreateDatabase creates a database (with its default retention policy
// "autogen"). It succeeds if the database exists.
func (s *Influx) CreateDatabase(name string) error {
	_, err := s.influxQL("", "CREATE DATABASE "+quoteIdent(name))
	return err
}

// Query runs an InfluxQL statement against s.Database and returns the series
// of its first result. SELECT may name measurements in other databases as
// "db"."rp"."m"; DELETE and DROP SERIES cannot, use QueryDB for them.
func (s *Influx) Query(tb testing.TB, influxQL string) []Series {
	tb.Helper()
	return s.QueryDB(tb, s.Database, influxQL)
}

// QueryDB runs an InfluxQL statement against database db (for a bucket
// "db/rp", the part before the slash) and returns the series of its first
// result.
func (s *Influx) QueryDB(tb testing.TB, db, influxQL string) []Series {
	tb.Helper()
	series, err := s.influxQL(db, influxQL)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return series
}

func (s *Influx) influxQL(db, q string) ([]Series, error) {
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	resp, err := http.PostForm(s.URL+"/query", form)
	if err != nil {
		return nil, fmt.Errorf("InfluxQL %q: %w", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("InfluxQL %q: %s: %s", q, resp.Status, raw)
	}
	if body.Error != "" {
		return nil, fmt.Errorf("InfluxQL %q: %s", q, body.Error)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("InfluxQL %q: %s: %s", q, resp.Status, raw)
	}
	if len(body.Results) == 0 {
		return nil, nil
	}
	if body.Results[0].Error != "" {
		return nil, fmt.Errorf("InfluxQL %q: %s", q, body.Results[0].Error)
	}
	return body.Results[0].Series, nil
}

func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Write posts line protocol to /api/v2/write with the given bucket
// ("db/rp") and precision ("s", "ms", "us" or "ns").
func (s *Influx) Write(tb testing.TB, bucket, precision, lines string) {
	tb.Helper()
	u := s.URL + "/api/v2/write?" + url.Values{"bucket": {bucket}, "org": {s.Org}, "precision": {precision}}.Encode()
	PostLineProtocol(tb, http.DefaultClient, u, strings.NewReader(lines))
}

// Flux runs a Flux query through /api/v2/query and returns the CSV InfluxDB
// answers. It fails the test on an HTTP error and on an error table in the
// answer (Flux reports some errors in-band, with status 200).
func (s *Influx) Flux(tb testing.TB, flux string) string {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/v2/query?org="+url.QueryEscape(s.Org), strings.NewReader(flux))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("testenv: flux: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("testenv: flux: %s: %s", resp.Status, body)
	}
	lines := strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, ",error,reference") && i+1 < len(lines) {
			tb.Fatalf("testenv: flux: %s", strings.TrimPrefix(lines[i+1], ","))
		}
	}
	return string(body)
}

// LogTail returns the last n lines of influxd's log.
func (s *Influx) LogTail(n int) string { return tailFile(s.LogPath, n) }

func (s *Influx) logTail() string {
	if s == nil {
		return ""
	}
	return s.LogTail(40)
}
