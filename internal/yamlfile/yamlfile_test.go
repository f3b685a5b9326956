package yamlfile

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"
)

func TestDecodeRefusesUnknownKeys(t *testing.T) {
	var v struct {
		Name string `yaml:"name"`
	}
	if err := Decode([]byte("name: 青岛\n"), &v); err != nil || v.Name != "青岛" {
		t.Fatalf("%v %+v", err, v)
	}
	err := Decode([]byte("name: x\nnmae: y\n"), &v)
	if err == nil || !strings.Contains(err.Error(), `field nmae not found`) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("unknown key: %v", err)
	}
	if err := Decode(nil, &v); !errors.Is(err, io.EOF) {
		t.Errorf("empty: %v", err)
	}
}

func TestReadDirReadsYAMLInOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"d/b.yaml":     {Data: []byte("b")},
		"d/a.yaml":     {Data: []byte("a")},
		"d/c.yml":      {Data: []byte("not read")},
		"d/sub/x.yaml": {Data: []byte("not read")},
	}
	files, err := ReadDir(fsys, "d")
	if err != nil || len(files) != 2 || files[0].Path != "d/a.yaml" || string(files[1].Data) != "b" {
		t.Fatalf("%v %+v", err, files)
	}
	files, err = ReadDir(fsys, "d", "a.yaml")
	if err != nil || len(files) != 1 || files[0].Path != "d/b.yaml" {
		t.Fatalf("skipping a.yaml: %v %+v", err, files)
	}
}

func TestWalkPaths(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("plan: {name: x}\ntargets:\n  - id: a\n  - [1]\n"), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(&doc, func(p Path, key, v *yaml.Node) {
		k := "-"
		if key != nil {
			k = key.Value
		}
		got = append(got, fmt.Sprintf("%s:%s@%d", p, k, v.Line))
	})
	want := "plan:plan@1 plan.name:name@1 targets:targets@3 targets[0]:-@3 targets[0].id:id@3 targets[1]:-@4 targets[1][0]:-@4"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}
