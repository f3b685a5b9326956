package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/yamlfile"
)

// yaml.v3's KnownFields does the strict decoding; this file only makes its
// messages name the key path and what was expected, e.g.
//
//	line 2: uploads: unknown field "max_byte" (want max_bytes, archive_dir, audit_log, tokens): field max_byte not found in type config.Uploads
//	collectors: line 3: want a list of collectors
//
// Errors inside the collectors: section start with the collector they are
// about (collector "name", or collectors[i] when it has no name).

var segRE = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// parsePath reads a path written by yamlfile.Path.String.
func parsePath(path string) yamlfile.Path {
	var out yamlfile.Path
	for _, m := range segRE.FindAllStringSubmatch(path, -1) {
		if m[2] != "" {
			i, _ := strconv.Atoi(m[2])
			out = append(out, yamlfile.Step{Index: i})
		} else {
			out = append(out, yamlfile.Step{Key: m[1], Index: -1})
		}
	}
	return out
}

// root returns the top-level mapping of a parsed document, or nil.
func root(doc *yaml.Node) *yaml.Node {
	if doc == nil {
		return nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return doc
}

// find returns the node at path ("uploads.tokens[0].regions"), or nil.
func find(doc *yaml.Node, path string) *yaml.Node {
	n := root(doc)
	for _, s := range parsePath(path) {
		if n == nil {
			return nil
		}
		switch {
		case s.Index >= 0 && n.Kind == yaml.SequenceNode && s.Index < len(n.Content):
			n = n.Content[s.Index]
		case s.Index < 0 && n.Kind == yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s.Key {
					next = n.Content[i+1]
				}
			}
			n = next
		default:
			return nil
		}
	}
	return n
}

// at prefixes err with the line of path, when the document has it.
func at(doc *yaml.Node, path string, err error) error {
	if n := find(doc, path); n != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return err
}

// locate finds, on line, the key named key (it returns the path of the
// mapping holding it) or, when key is "", the value the message is about:
// the first that fits, else the outermost value.
func locate(doc *yaml.Node, line int, key string, fits func(*yaml.Node, yamlfile.Path) bool) (yamlfile.Path, bool) {
	var keyAt, quoted, first yamlfile.Path
	found := false
	yamlfile.Walk(doc, func(p yamlfile.Path, k, v *yaml.Node) {
		if key != "" && !found && k != nil && k.Line == line && k.Value == key {
			keyAt, found = p[:len(p)-1], true
		}
		if key == "" && v.Line == line {
			if quoted == nil && fits(v, p) {
				quoted = p
			}
			if first == nil {
				first = p
			}
		}
	})
	switch {
	case key != "":
		return keyAt, found
	case quoted != nil:
		return quoted, true
	case first != nil:
		return first, true
	}
	return nil, false
}

// typeAt follows path through Config's Go types.
func typeAt(path yamlfile.Path) reflect.Type {
	t := reflect.TypeOf(Config{})
	for _, s := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case s.Index >= 0 && t.Kind() == reflect.Slice:
			t = t.Elem()
		case s.Index < 0 && t.Kind() == reflect.Map:
			t = t.Elem()
		case s.Index < 0 && t.Kind() == reflect.Struct:
			f, ok := fieldByKey(t, s.Key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer { // an optional value (*bool)
		t = t.Elem()
	}
	return t
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keys lists the keys a struct type accepts, in declaration order.
func keys(t reflect.Type) []string {
	var out []string
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" && t.Field(i).IsExported() {
			out = append(out, name)
		}
	}
	return out
}

// want says what a value of type t looks like in YAML; last names the key.
func want(t reflect.Type, last string) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		if last != "" {
			return "a list of " + last
		}
		return "a list"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

var (
	lineMsgRE  = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	quotedRE   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	cannotRE   = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
	kinds      = map[string]yaml.Kind{"seq": yaml.SequenceNode, "map": yaml.MappingNode}
)

// explain rewrites one of yaml's decoding messages ("line 3: field buckett
// not found in type config.Influx") to name the key path and what is
// expected.
func explain(doc *yaml.Node, m string) error {
	mm := lineMsgRE.FindStringSubmatch(m)
	if mm == nil {
		return errors.New(m)
	}
	line, _ := strconv.Atoi(mm[1])
	msg := mm[2]
	var path yamlfile.Path
	if f := notFoundRE.FindStringSubmatch(msg); f != nil {
		p, ok := locate(doc, line, f[1], nil)
		if !ok {
			return errors.New(m)
		}
		path = p
		msg = fmt.Sprintf("unknown field %q (want %s): %s", f[1], strings.Join(keys(typeAt(p)), ", "), msg)
	} else {
		c := cannotRE.FindStringSubmatch(msg)
		var fits func(*yaml.Node, yamlfile.Path) bool
		if c != nil { // the node of that kind decoded into that Go type
			fits = func(v *yaml.Node, p yamlfile.Path) bool {
				t := typeAt(p)
				k, ok := kinds[c[1]]
				if !ok {
					k = yaml.ScalarNode
				}
				return k == v.Kind && t != nil && t.String() == c[3]
			}
		} else { // the scalar the message quotes
			q := quotedRE.FindString(msg)
			value, _ := strconv.Unquote(q)
			fits = func(v *yaml.Node, _ yamlfile.Path) bool {
				return q != "" && v.Kind == yaml.ScalarNode && v.Value == value
			}
		}
		p, ok := locate(doc, line, "", fits)
		if !ok {
			return errors.New(m)
		}
		path = p
		if c != nil {
			last := ""
			if len(p) > 0 {
				last = p[len(p)-1].Key
			}
			msg = "want " + want(typeAt(p), last)
			if c[2] != "" {
				msg += fmt.Sprintf(", not %q", c[2])
			}
		}
	}
	return placed(doc, line, path, msg)
}

// placed formats msg at line and path: "line N: path: msg", except inside
// the collectors: section, where the collector comes first:
// "collector "drop": line N: msg, at key timeout".
func placed(doc *yaml.Node, line int, path yamlfile.Path, msg string) error {
	if len(path) == 0 {
		return fmt.Errorf("line %d: %s", line, msg)
	}
	if path[0].Key != "collectors" || path[0].Index >= 0 {
		return fmt.Errorf("line %d: %s: %s", line, path.String(), msg)
	}
	if len(path) == 1 || path[1].Index < 0 {
		return fmt.Errorf("collectors: line %d: %s", line, msg)
	}
	subject := path[:2].String()
	if n := find(doc, subject+".name"); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
		subject = fmt.Sprintf("collector %q", n.Value)
	}
	if rest := path[2:].String(); rest != "" {
		return fmt.Errorf("%s: line %d: %s, at key %s", subject, line, msg, rest)
	}
	return fmt.Errorf("%s: line %d: %s", subject, line, msg)
}

// decodeErrors turns yaml's decoding error into one error per problem.
func decodeErrors(doc *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	errs := make([]error, 0, len(te.Errors))
	for _, m := range te.Errors {
		errs = append(errs, explain(doc, m))
	}
	return errors.Join(errs...)
}

// InFile prefixes every error of a joined error with the file name, so that
// each line of the message names it.
func InFile(path string, err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	for _, e := range j.Unwrap() {
		errs = append(errs, InFile(path, e))
	}
	return errors.Join(errs...)
}
