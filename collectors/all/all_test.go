package all

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/collectortest"
	"github.com/qualitymon/qualitymon/internal/config"
)

func TestRegistry(t *testing.T) {
	want := []string{"aqi", "filedrop", "httpjson"}
	if got := collectors.Types(Registry); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("registry types %v, want %v", got, want)
	}
	for typ, f := range Registry {
		if f == nil {
			t.Fatalf("%s: nil factory", typ)
		}
		// Every factory rejects empty options with a message naming a field.
		if _, err := f("x", &yaml.Node{}, collectortest.Deps(t)); err == nil || !strings.Contains(err.Error(), "options") {
			t.Errorf("%s: empty options: %v", typ, err)
		}
		if _, err := os.Stat(filepath.Join("..", typ, "README.md")); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		if _, err := os.Stat(filepath.Join("..", typ, "sample.yml")); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

// The sample configs of the collector packages load and build.
func TestSamples(t *testing.T) {
	for typ := range Registry {
		data, err := os.ReadFile(filepath.Join("..", typ, "sample.yml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		cfgs, err := collectors.Build(cfg.Collectors, Registry, collectortest.Deps(t, "QUALITYMON_FEED_TOKEN", "t"))
		if err != nil || len(cfgs) == 0 || cfgs[0].Type != typ {
			t.Fatalf("%s/sample.yml: %v %+v", typ, err, cfgs)
		}
	}
}
