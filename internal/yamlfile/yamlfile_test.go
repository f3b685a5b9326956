package yamlfile

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/fstest"
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
