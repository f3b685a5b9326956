// Package influxtest runs a real InfluxDB 1.8.10 for tests.
//
// InfluxDB 1.8.10 serves the v2-compatible write API (/api/v2/write) and Flux
// queries (/api/v2/query) that github.com/influxdata/influxdb-client-go/v2
// uses. The bucket is "db/rp" ([Server.Bucket] is "qualitymon/autogen"), the
// org is ignored ("-") and the token is empty because auth is off.
//
// The influxd binary is looked up in this order: $QUALITYMON_INFLUXD,
// <repo root>/.tools/bin/influxd, $PATH. When none exists it is built with
// "go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10" into
// <repo root>/.tools/bin (a minute or two the first time; scripts/influxdb.sh
// install does the same). With -short a missing binary is not built.
//
// When influxd cannot be installed or started the test is skipped, unless
// CI=true or QUALITYMON_REQUIRE_INFLUX=1, in which case it fails with the
// reason and the tail of influxd's log.
//
// # Cost
//
// Starting influxd with Flux enabled takes about 5 s of CPU: Flux 0.65
// type-checks its standard library at start-up (the same binary with Flux off
// answers /ping after 80 ms). Measured on an idle 2-CPU machine: [Start]
// 4.7–5.8 s, [Server.Restart] after [Server.Kill] 4.7 s, [Server.Stop] 20 ms.
// Therefore:
//
//   - Use [Shared] for ordinary read/write tests. It starts one server per test
//     binary and hands the same one to every caller. Isolate tests with
//     [Server.NewBucket], which creates a fresh database. Call [Cleanup] from
//     TestMain to stop it; if you do not, influxd is killed when the test
//     binary exits (Linux) and the next Shared removes its temporary data.
//   - Use [Start] for a private server in fault tests that [Server.Kill] and
//     [Server.Restart] InfluxDB. Never stop, kill or restart the shared server.
//
// # InfluxDB 1.8.10 as seen through influxdb-client-go/v2
//
//   - Works: Ping (GET /ping, 204), Health (status "pass", version "unknown"
//     because go install sets no ldflags), WriteAPIBlocking/WriteAPI,
//     QueryAPI.Query/QueryRaw, Flux pivot, group, last, map, aggregateWindow,
//     union, buckets(), v1.fieldsAsCols. Timestamps keep nanoseconds.
//   - Missing (404): Ready (/ready), DeleteAPI (/api/v2/delete), BucketsAPI
//     and the other management APIs. Delete with InfluxQL through /query
//     (see [Server.QueryDB]); create databases with [Server.CreateDatabase].
//   - QueryWithParams fails: Flux 0.65 knows no "params"; build queries as text.
//   - A field's type is fixed per shard (7 days for autogen). Writing 5i where
//     5.0 was written is a 400 in the same shard, but succeeds in another
//     shard, after which Flux silently drops the values of the other type or
//     fails ("expected integer cursor type"). Always write numbers as float64.
//   - Comparing a tag that some series lack (r.region == "x") is fine, but
//     passing it to a function (contains, strings.*, + in map) fails with
//     "missing object properties (region)": as HTTP 500 when the first table
//     fails, otherwise in-band after partial results with HTTP 200 (the client
//     reports that from QueryTableResult.Err, so always check Err). Guard with
//     filter(fn: (r) => exists r.region) first, and write every tag on every
//     point (a tag with an empty value is dropped).
//   - Writing the same series and timestamp again overwrites the fields given.
//   - A bucket without "/rp" means the default retention policy; a missing
//     database is a 404 on write and a 500 ("no database") on query.
//
// Typical use:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		influxtest.Cleanup()
//		os.Exit(code)
//	}
//
//	func TestStore(t *testing.T) {
//		srv := influxtest.Shared(t)
//		bucket := srv.NewBucket(t)
//		client := influxdb2.NewClient(srv.URL, srv.Token)
//		defer client.Close()
//		w := client.WriteAPIBlocking(srv.Org, bucket)
//		...
//	}
package influxtest

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// Module is the Go module influxd is built from.
	Module = "github.com/influxdata/influxdb"
	// Version is the InfluxDB version the tests run.
	Version = "v1.8.10"
	// Package is the influxd main package.
	Package = Module + "/cmd/influxd"
	// DefaultDatabase is created on every new server.
	DefaultDatabase = "qualitymon"
	// DefaultBucket is the v2 bucket name of DefaultDatabase.
	DefaultBucket = DefaultDatabase + "/autogen"
)

// StartTimeout bounds how long Start and Restart wait for /ping.
// Start-up takes about 5 s on an idle 2-CPU machine; parallel test binaries
// compete for the CPU, hence the margin.
var StartTimeout = 90 * time.Second

// Server is a running influxd. Its exported fields are what a client needs.
type Server struct {
	URL      string // http://127.0.0.1:PORT
	Bucket   string // "qualitymon/autogen"
	Org      string // "-" (ignored by InfluxDB 1.8)
	Token    string // "" (auth is off)
	Database string // "qualitymon"

	Dir     string // holds influxdb.conf, meta/, data/, wal/ and influxd.log
	LogPath string // influxd's stdout and stderr
	Binary  string // the influxd executable

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	shared bool
}

// Series is one series of an InfluxQL result.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Start starts a private influxd with its data in tb.TempDir(), creates the
// database "qualitymon" and stops the server when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary(tb)
	if err != nil {
		unavailable(tb, err, "")
	}
	s, err := start(bin, tb.TempDir())
	if err != nil {
		unavailable(tb, err, s.logTail())
	}
	tb.Cleanup(s.Stop)
	return s
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
	log  string
	dir  string
}

// Shared returns the server shared by all tests of this test binary, starting
// it on first use. Stop it with Cleanup from TestMain.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() {
		bin, err := Binary(tb)
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
		s, err := start(bin, dir)
		if err != nil {
			shared.err, shared.log = err, s.logTail()
			return
		}
		s.shared = true
		shared.srv = s
	})
	if shared.err != nil {
		unavailable(tb, shared.err, shared.log)
	}
	if !shared.srv.running() {
		tb.Fatalf("influxtest: the shared influxd is not running (a test must not stop, kill or restart it)\n%s", shared.srv.logTail())
	}
	return shared.srv
}

const sharedDirPrefix = "influxtest-shared-"

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
// Call it from TestMain after m.Run.
func Cleanup() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

// Required reports whether tests must fail rather than skip when InfluxDB is
// unavailable: CI=true or QUALITYMON_REQUIRE_INFLUX=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("QUALITYMON_REQUIRE_INFLUX") == "1"
}

func unavailable(tb testing.TB, err error, logTail string) {
	tb.Helper()
	msg := fmt.Sprintf("influxtest: InfluxDB %s unavailable: %v", Version, err)
	if logTail != "" {
		msg += "\n--- tail of influxd.log ---\n" + logTail
	}
	if Required() {
		tb.Fatal(msg)
	}
	tb.Skip(msg + "\n(set CI=true or QUALITYMON_REQUIRE_INFLUX=1 to fail instead)")
}

// Binary returns the influxd to run: $QUALITYMON_INFLUXD, else
// <repo root>/.tools/bin/influxd, else influxd on $PATH, else it installs
// influxd into <repo root>/.tools/bin (not under -short).
func Binary(tb testing.TB) (string, error) {
	if p := os.Getenv("QUALITYMON_INFLUXD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("QUALITYMON_INFLUXD: %w", err)
		}
		return p, nil
	}
	root, rootErr := RepoRoot()
	if rootErr == nil {
		if p := filepath.Join(root, ".tools", "bin", "influxd"); isWantedBuild(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p, nil
	}
	if rootErr != nil {
		return "", fmt.Errorf("no influxd, and nowhere to install it: %w", rootErr)
	}
	if testing.Short() {
		return "", errors.New("influxd is not installed and -short forbids building it (run scripts/influxdb.sh install)")
	}
	if tb != nil {
		tb.Logf("influxtest: installing %s@%s into %s (a minute or two)", Package, Version, filepath.Join(root, ".tools", "bin"))
	}
	return Install(root)
}

// RepoRoot walks up from the working directory to the directory holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

var installMu sync.Mutex

// Install runs "go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10"
// into root/.tools/bin unless influxd is already there, and returns its path.
// It holds root/.tools/influxd.lock (shared with scripts/influxdb.sh) so that
// parallel test binaries build it once.
func Install(root string) (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	binDir := filepath.Join(root, ".tools", "bin")
	bin := filepath.Join(binDir, "influxd")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(root, ".tools", "influxd.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if isWantedBuild(bin) { // built by someone else while we waited
		return bin, nil
	}
	gobin, err := os.MkdirTemp(filepath.Join(root, ".tools"), "install.")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(gobin)
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	cmd := exec.Command(goTool, "install", Package+"@"+Version)
	cmd.Dir = gobin
	cmd.Env = append(filterEnv(os.Environ(), "GOFLAGS=", "GOBIN=", "GOWORK="), "GOBIN="+gobin, "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", Package, Version, err, tail(string(out), 30))
	}
	// Rename is atomic: an influxd already running keeps its old file.
	if err := os.Rename(filepath.Join(gobin, "influxd"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// isWantedBuild reports whether p is an executable built by
// "go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10".
func isWantedBuild(p string) bool {
	if !isExecutable(p) {
		return false
	}
	bi, err := buildinfo.ReadFile(p)
	return err == nil && bi.Main.Path == Module && bi.Main.Version == Version
}

func filterEnv(env []string, dropPrefixes ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, p := range dropPrefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// start starts bin with its data in dir. On error the returned Server still
// names the log.
func start(bin, dir string) (*Server, error) {
	s := &Server{
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) configPath() string { return filepath.Join(s.Dir, "influxdb.conf") }

// configTemplate is shared with scripts/influxdb.sh.
//
//go:embed influxdb.conf.tmpl
var configTemplate string

func (s *Server) writeConfig(httpPort, rpcPort int) error {
	conf := strings.NewReplacer("@DIR@", s.Dir, "@HTTP_PORT@", strconv.Itoa(httpPort), "@RPC_PORT@", strconv.Itoa(rpcPort)).Replace(configTemplate)
	return os.WriteFile(s.configPath(), []byte(conf), 0o644)
}

// launch starts influxd from the config in s.Dir and waits for /ping.
func (s *Server) launch() error {
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "--- influxtest: %s run -config %s (%s)\n", s.Binary, s.configPath(), time.Now().Format(time.RFC3339))
	cmd := exec.Command(s.Binary, "run", "-config", s.configPath())
	// influxd lets INFLUXDB_* variables override its config file.
	cmd.Env = filterEnv(os.Environ(), "INFLUXDB_")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.Binary, err)
	}
	logf.Close() // the child has its own descriptor
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("influxd exited during start-up: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("influxd did not answer %s/ping within %s", s.URL, StartTimeout)
		}
	}
}

// Running reports whether influxd runs (it may still be starting up).
func (s *Server) Running() bool { return s.running() }

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop stops influxd gracefully (SIGTERM, then SIGKILL after 10 s) and waits
// for it to exit. It does nothing if influxd is not running.
func (s *Server) Stop() { s.signal(syscall.SIGTERM, 10*time.Second) }

// Kill kills influxd with SIGKILL, as a crash would, and waits for it to exit.
// Data acknowledged by a write is in the WAL and survives a Restart.
func (s *Server) Kill() { s.signal(syscall.SIGKILL, 0) }

func (s *Server) signal(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		select {
		case <-done:
			return
		case <-time.After(grace):
			cmd.Process.Kill()
		}
	}
	<-done
}

// Restart starts influxd again on the same port and data directory, after
// stopping it gracefully if it still runs, and waits until it answers. It
// costs a full start-up (about 5 s). Do not restart the Shared server.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if s.shared {
		tb.Fatal("influxtest: do not restart the Shared server; use Start for fault tests")
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
		tb.Fatalf("influxtest: restart: %v\n--- tail of influxd.log ---\n%s", err, s.logTail())
	}
}

// Env returns the variables that point qualitymon at this server:
// QUALITYMON_INFLUX_URL, _BUCKET, _ORG and _TOKEN.
func (s *Server) Env() []string {
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
func (s *Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	db := fmt.Sprintf("t%d_%d", os.Getpid(), bucketSeq.Add(1))
	if err := s.CreateDatabase(db); err != nil {
		tb.Fatalf("influxtest: %v", err)
	}
	tb.Cleanup(func() {
		if s.running() {
			s.influxQL("", "DROP DATABASE "+quoteIdent(db))
		}
	})
	return db + "/autogen"
}

// CreateDatabase creates a database (with its default retention policy
// "autogen"). It succeeds if the database exists.
func (s *Server) CreateDatabase(name string) error {
	_, err := s.influxQL("", "CREATE DATABASE "+quoteIdent(name))
	return err
}

// Query runs an InfluxQL statement against s.Database and returns the series
// of its first result. SELECT may name measurements in other databases as
// "db"."rp"."m"; DELETE and DROP SERIES cannot, use QueryDB for them.
func (s *Server) Query(tb testing.TB, influxQL string) []Series {
	tb.Helper()
	return s.QueryDB(tb, s.Database, influxQL)
}

// QueryDB runs an InfluxQL statement against database db (for a bucket
// "db/rp", the part before the slash) and returns the series of its first
// result.
func (s *Server) QueryDB(tb testing.TB, db, influxQL string) []Series {
	tb.Helper()
	series, err := s.influxQL(db, influxQL)
	if err != nil {
		tb.Fatalf("influxtest: %v", err)
	}
	return series
}

func (s *Server) influxQL(db, q string) ([]Series, error) {
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
func (s *Server) Write(tb testing.TB, bucket, precision, lines string) {
	tb.Helper()
	u := s.URL + "/api/v2/write?" + url.Values{"bucket": {bucket}, "org": {s.Org}, "precision": {precision}}.Encode()
	resp, err := http.Post(u, "text/plain; charset=utf-8", strings.NewReader(lines))
	if err != nil {
		tb.Fatalf("influxtest: write: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("influxtest: write: %s: %s", resp.Status, body)
	}
}

// Flux runs a Flux query through /api/v2/query and returns the CSV InfluxDB
// answers. It fails the test on an HTTP error and on an error table in the
// answer (Flux reports some errors in-band, with status 200).
func (s *Server) Flux(tb testing.TB, flux string) string {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/v2/query?org="+url.QueryEscape(s.Org), strings.NewReader(flux))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("influxtest: flux: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("influxtest: flux: %s: %s", resp.Status, body)
	}
	lines := strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, ",error,reference") && i+1 < len(lines) {
			tb.Fatalf("influxtest: flux: %s", strings.TrimPrefix(lines[i+1], ","))
		}
	}
	return string(body)
}

// LogTail returns the last n lines of influxd's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return ""
	}
	return tail(string(b), n)
}

func (s *Server) logTail() string {
	if s == nil {
		return ""
	}
	return s.LogTail(40)
}

func tail(text string, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader([]byte(text)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
