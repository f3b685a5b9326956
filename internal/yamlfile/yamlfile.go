// Package yamlfile reads qualitymon's YAML files — plans, the catalogue, the
// region table, qualitymon.yaml, alert receivers, collector options — by one
// rule: a key the Go type has no field for is an error, never ignored; and
// walks a parsed document's values with their key paths ([Walk]), for
// messages that name where a value stands.
package yamlfile

import (
	"bytes"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes one YAML document into v strictly (yaml.v3 KnownFields).
// Empty input is io.EOF, as yaml.v3 reports it.
func Decode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// File is one YAML file read from a directory.
type File struct {
	Path string
	Data []byte
}

// ReadDir reads every *.yaml file directly in dir of fsys, in name order,
// except those named in skip.
func ReadDir(fsys fs.FS, dir string, skip ...string) ([]File, error) {
	paths, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(paths))
	for _, p := range paths {
		if slices.Contains(skip, path.Base(p)) {
			continue
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: p, Data: data})
	}
	return out, nil
}

// Step is one step of a key path: a mapping key, or a list index.
type Step struct {
	Key   string
	Index int // -1 for a key
}

// Path is the way from a document to one of its values; its String is the
// form messages quote: "uploads.tokens[0].regions".
type Path []Step

func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.Index >= 0:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		case i > 0:
			b.WriteString("." + s.Key)
		default:
			b.WriteString(s.Key)
		}
	}
	return b.String()
}

// Walk calls visit for every value below n (a document's values, not the
// document), in document order, each before the values inside it: with its
// path from n, which is the visitor's to keep, and for a mapping's value
// its key node (nil for a list item).
func Walk(n *yaml.Node, visit func(p Path, key, v *yaml.Node)) {
	walk(n, nil, visit)
}

func walk(n *yaml.Node, path Path, visit func(Path, *yaml.Node, *yaml.Node)) {
	step := func(s Step, key, v *yaml.Node) {
		p := append(append(Path(nil), path...), s)
		visit(p, key, v)
		walk(v, p, visit)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walk(c, path, visit)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			step(Step{Key: n.Content[i].Value, Index: -1}, n.Content[i], n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			step(Step{Index: i}, nil, c)
		}
	}
}
