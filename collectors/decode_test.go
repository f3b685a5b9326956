package collectors

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDecodeOptionsStrictWithFileLines(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("collectors:\n  - name: x\n    options:\n      dir: /tmp\n      dirr: /x\n"), &doc); err != nil {
		t.Fatal(err)
	}
	opts := doc.Content[0].Content[1].Content[0].Content[3]
	var v struct {
		Dir string `yaml:"dir"`
	}
	err := DecodeOptions(opts, &v)
	if err == nil || err.Error() != "options: line 5: field dirr not found in type struct { Dir string \"yaml:\\\"dir\\\"\" }" {
		t.Fatalf("err = %v", err)
	}
	v.Dir = ""
	if err := DecodeOptions(&yaml.Node{}, &v); err != nil || v.Dir != "" {
		t.Fatal("empty node")
	}
	var ok struct {
		Dir string `yaml:"dir"`
	}
	yaml.Unmarshal([]byte("dir: /tmp\n"), &doc)
	if err := DecodeOptions(doc.Content[0], &ok); err != nil || ok.Dir != "/tmp" {
		t.Fatalf("%v %q", err, ok.Dir)
	}
}
