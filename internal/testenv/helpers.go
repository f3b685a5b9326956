package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/region"
)

// Front serves, until the test ends, a proxy in front of the InfluxDB at
// target and returns its URL: each request goes to serve with the handler
// that forwards it to InfluxDB (serve may hold it, refuse it or watch the
// answer, written to w).
func Front(t testing.TB, target string, serve func(w http.ResponseWriter, r *http.Request, influx http.Handler)) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	influx := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, influx) }))
	t.Cleanup(front.Close)
	return front.URL
}

// Get fetches u with a 10-second timeout and returns the status and the
// body; a request that fails gives status 0 and the error as the body, so
// that polling loops can print it.
func Get(u string) (int, string) {
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// PostLineProtocol writes line protocol to an InfluxDB /write (or
// /api/v2/write) URL with c and fails the test unless InfluxDB answers 204.
func PostLineProtocol(tb testing.TB, c *http.Client, url string, body io.Reader) {
	tb.Helper()
	resp, err := c.Post(url, "text/plain; charset=utf-8", body)
	if err != nil {
		tb.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("line protocol write: %s %s", resp.Status, strings.TrimSpace(string(msg)))
	}
}

// ReadYAML decodes the YAML file at path into v, failing the test on error.
func ReadYAML(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// Obs is an observation for a test; per is any period qualitymon parses
// ("2020", "2020-Q3") and a bad one panics.
func Obs(ind, reg, per string, v float64, src string) observation.Observation {
	p, err := period.Parse(per)
	if err != nil {
		panic(err)
	}
	return observation.Observation{Indicator: ind, Region: reg, Period: p, Value: v, Source: src}
}

// Regions is a region table of the shipped regions with the given codes
// (targets/regions.yaml), for tests that want a small, real table.
func Regions(tb testing.TB, codes ...string) *region.Table {
	tb.Helper()
	_, all := Targets(tb)
	var rs []*region.Region
	for _, c := range codes {
		r, ok := all.Get(c)
		if !ok {
			tb.Fatalf("no region %s in targets/regions.yaml", c)
		}
		cp := *r
		rs = append(rs, &cp)
	}
	t, err := region.New(rs...)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// GBK is s encoded as GBK, as the bureaus' older tools write it.
func GBK(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ASCIIRows is a canonical CSV header and n ASCII rows of daily AQI for
// 370000, one a day from 2001-01-01: more than 70 KiB for n = 2000, past
// the 64 KiB an encoding is first guessed from.
func ASCIIRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString("indicator,region,period,value,source\n")
	for i := range n {
		fmt.Fprintf(&b, "aqi_daily,370000,%04d-%02d-%02d,55,ascii\n", 2001+i/336, 1+(i/28)%12, 1+i%28)
	}
	return b.Bytes()
}

// CopyDir copies the fixture directory from (its files and subdirectories)
// into a new temporary directory and returns that, so that a test may
// change what it reads (a spool or review queue as an older version left
// it).
func CopyDir(tb testing.TB, from string) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// LoadAverage is the machine's load average (/proc/loadavg), for
// benchmarks to print beside their figures: they mean little on a busy
// machine.
func LoadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
