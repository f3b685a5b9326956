package version

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestGet(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name                string
		bi                  *debug.BuildInfo
		ver, rev, date      string
		wantV, wantR, wantD string
	}{
		{"from build info", bi, "", "", "", "v1.4.0", "0123abc-dirty", "2026-11-30T10:00:00Z"},
		{"ldflags win", bi, "1.5.0", "fedcba9", "2026-12-01", "1.5.0", "fedcba9", "2026-12-01"},
		{"nothing known", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", "", "", "unknown", "unknown", "unknown"},
		{"no build info", nil, "", "", "", "unknown", "unknown", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := get(tc.bi, tc.ver, tc.rev, tc.date)
			if in.Version != tc.wantV || in.Revision != tc.wantR || in.BuildDate != tc.wantD {
				t.Errorf("got %+v, want %s %s %s", in, tc.wantV, tc.wantR, tc.wantD)
			}
			if !strings.HasPrefix(in.GoVersion, "go") {
				t.Errorf("go version %q", in.GoVersion)
			}
		})
	}
}

func TestCollector(t *testing.T) {
	Version, Revision = "1.2.3", "abc"
	defer func() { Version, Revision = "", "" }()
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector())
	want := `# HELP qualitymon_build_info A metric with a constant '1' value labelled by the version, revision and Go version qualitymon was built with.
# TYPE qualitymon_build_info gauge
qualitymon_build_info{goversion="` + Get().GoVersion + `",revision="abc",version="1.2.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "qualitymon_build_info"); err != nil {
		t.Error(err)
	}
}
