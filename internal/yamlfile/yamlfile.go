// Package yamlfile reads qualitymon's YAML files — plans, the catalogue, the
// region table, qualitymon.yaml, alert receivers, collector options — by one
// rule: a key the Go type has no field for is an error, never ignored.
package yamlfile

import (
	"bytes"
	"io/fs"
	"path"
	"slices"

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
