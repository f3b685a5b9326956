// Package version tells which qualitymon this is: the version, VCS revision
// and build date stamped at link time (-ldflags -X), else read from the Go
// build info (runtime/debug.ReadBuildInfo), and the Go version. It also
// exports them as qualitymon_build_info.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Set at link time, e.g.
//
//	go build -ldflags "-X github.com/qualitymon/qualitymon/internal/version.Version=1.2.0 \
//	  -X github.com/qualitymon/qualitymon/internal/version.Revision=$(git rev-parse HEAD) \
//	  -X github.com/qualitymon/qualitymon/internal/version.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// An empty value is filled from the build info (module version, vcs.revision,
// vcs.time), and "unknown" when that has nothing either.
var (
	Version   string
	Revision  string
	BuildDate string
)

// Info is what `qualitymon version` prints.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	BuildDate string `json:"build_date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get combines the link-time values with the build info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(bi, Version, Revision, BuildDate)
}

func get(bi *debug.BuildInfo, version, revision, date string) Info {
	in := Info{Version: version, Revision: revision, BuildDate: date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Revision == "" {
					in.Revision = s.Value
				}
			case "vcs.time":
				if in.BuildDate == "" {
					in.BuildDate = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && revision == "" && in.Revision != "" {
			in.Revision += "-dirty"
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
	}
	for _, p := range []*string{&in.Version, &in.Revision, &in.BuildDate} {
		if *p == "" {
			*p = "unknown"
		}
	}
	return in
}

// String is the one-line form: "qualitymon 1.2.0 (revision abc123, built
// 2026-01-02T03:04:05Z, go1.26.8 linux/amd64)".
func (i Info) String() string {
	return fmt.Sprintf("qualitymon %s (revision %s, built %s, %s %s)", i.Version, i.Revision, i.BuildDate, i.GoVersion, i.Platform)
}

// NewCollector returns the qualitymon_build_info gauge (always 1), labelled
// with version, revision and goversion, as Prometheus' own exporters do.
func NewCollector() prometheus.Collector {
	in := Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "qualitymon_build_info",
		Help:        "A metric with a constant '1' value labelled by the version, revision and Go version qualitymon was built with.",
		ConstLabels: prometheus.Labels{"version": in.Version, "revision": in.Revision, "goversion": in.GoVersion},
	})
	g.Set(1)
	return g
}
