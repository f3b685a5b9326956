package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/store/storetest"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// nastyStrings are texts a visitor could send where a tag value or an id is
// expected: interpolation, quotes, escapes, Flux pipes, control bytes,
// invalid UTF-8, long text.
var nastyStrings = []string{
	"", "370200", "青岛市", "food-sampling-pass-rate",
	"${r.region}", `${"x"}`, "$", "$$", "${", "$\\", `$"`, "$\n", "\\${r.region}", `\${`, `$\${`,
	`" or true or "`, `\"`, `\`, `\\`, `"`, `""`, `") |> drop(columns: ["region"]) |> yield(name: "x`,
	"a\nb", "a\r\nb", "a\rb", "\t", "\x00", "\x01\x1f\x7f", "line1\n\") |> yield()\n//",
	"\xff", "\xe6\x97", "a\xc0\xafb", "\u2028\u2029", "\ufeff", "👍🏽", "\U0010ffff",
	`\x24{r.region}`, `\n`, `\u0024`, "//", "/* */", "r.region", `"+r.region+"`,
	strings.Repeat("${r.region}", 500), strings.Repeat("青", 3000),
}

// evalFlux checks what InfluxDB's Flux makes of the literal of s: a column
// set to it by map() on the one point of a fresh bucket must read back as
// s, and Flux's strings.strlen of it must be s's length in runes (the
// answer travels as CSV, whose reader drops every "\r"; the length shows
// that Flux held them).
func evalFlux(t testing.TB, st *store.Store, s string) error {
	lit := store.FluxString(s)
	q := `import "strings"
from(bucket: ` + store.FluxString(st.Bucket()) + `)
  |> range(start: 0)
  |> limit(n: 1)
  |> map(fn: (r) => ({_time: r._time, s: ` + lit + `, n: strings.strlen(v: ` + lit + `)}))
`
	rows, err := st.Query(context.Background(), q)
	if err != nil {
		return fmt.Errorf("%.60q as %.60s: %w", s, lit, err)
	}
	if len(rows) != 1 {
		return fmt.Errorf("%.60q as %.60s: query answered %d rows, want 1", s, lit, len(rows))
	}
	got, _ := rows[0]["s"].(string)
	n, _ := rows[0]["n"].(int64)
	if want := strings.ReplaceAll(s, "\r", ""); got != want || n != int64(utf8.RuneCountInString(s)) {
		return fmt.Errorf("%.60q as %.60s: Flux read %.60q of %d runes", s, lit, got, n)
	}
	return nil
}

func fluxStore(t testing.TB) *store.Store {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	srv.Write(t, bucket, "s", "probe v=1 1")
	return storetest.On(t, srv, bucket)
}

// TestFluxStringRoundTrip: InfluxDB 1.8.10's Flux reads the literal of every
// nasty string back as exactly that string. With fmt's %q (the old quoting)
// "${r.region}" fails to compile and `$"` ends the literal early.
func TestFluxStringRoundTrip(t *testing.T) {
	st := fluxStore(t)
	for _, s := range nastyStrings {
		if err := evalFlux(t, st, s); err != nil {
			t.Error(err)
		}
	}
}

// TestFluxStringFilter: a literal in a filter equality selects exactly the
// series whose tag holds that text, and never every series.
func TestFluxStringFilter(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	srv.Write(t, bucket, "s", "m,region=370200 v=1 1\nm,region=370100 v=2 1\nm,region=${r.region} v=3 1\nm,region=a\\\"b v=4 1")
	st := storetest.On(t, srv, bucket)
	for s, want := range map[string]int{"370200": 1, "${r.region}": 1, `a\"b`: 1, `" or true or "`: 0, `") or (r) => true or ("`: 0} {
		q := `from(bucket: ` + store.FluxString(bucket) + `) |> range(start: 0) |> filter(fn: (r) => r._measurement == "m" and r.region == ` + store.FluxString(s) + `)`
		rows, err := st.Query(context.Background(), q)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if len(rows) != want {
			t.Errorf("%q selected %d points, want %d", s, len(rows), want)
		}
		for _, r := range rows {
			if r["region"] != s {
				t.Errorf("%q selected region %q", s, r["region"])
			}
		}
	}
}

// TestFluxStringShape checks the literal's text without a server: no "$",
// no control byte, every backslash starting an escape Flux 0.65 knows.
func TestFluxStringShape(t *testing.T) {
	for _, s := range nastyStrings {
		checkShape(t, s, store.FluxString(s))
	}
}

func checkShape(t testing.TB, s, lit string) {
	t.Helper()
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		t.Fatalf("%q: literal %q is not quoted", s, lit)
	}
	in := lit[1 : len(lit)-1]
	for i := 0; i < len(in); i++ {
		switch c := in[i]; {
		case c == '$' || c == '"' || c < 0x20 || c == 0x7f:
			t.Fatalf("%q: literal %q holds %q unescaped at %d", s, lit, c, i)
		case c == '\\':
			if i+1 >= len(in) || !strings.ContainsRune(`nrt\"x`, rune(in[i+1])) {
				t.Fatalf("%q: literal %q has a bad escape at %d", s, lit, i)
			}
			if in[i+1] == 'x' {
				i += 2
			}
			i++
		}
	}
}

func TestFluxTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2024, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)): "2024-01-01T00:00:00Z",
		time.Date(2024, 1, 1, 0, 0, 0, 5, time.UTC):                      "2024-01-01T00:00:00.000000005Z",
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC):                        "1677-09-22T00:00:00Z",
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC):                     "2262-04-11T00:00:00Z",
	} {
		if got := store.FluxTime(in); got != want {
			t.Errorf("FluxTime(%v) = %s, want %s", in, got, want)
		}
	}
}

// FuzzFluxString: for any string, the literal has the safe shape and real
// Flux evaluates it to exactly that string. Without -fuzz the seeds run.
//
//	go test -run '^$' -fuzz FuzzFluxString -fuzztime 30s ./internal/store/
func FuzzFluxString(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	st := fluxStore(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkShape(t, s, store.FluxString(s))
		if err := evalFlux(t, st, s); err != nil {
			t.Fatal(err)
		}
	})
}
