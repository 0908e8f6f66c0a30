package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"
)

// maxYAMLDepth bounds the nesting of mappings in the configuration file.
// The deepest key has six dotted parts; anything much deeper is a mistake.
const maxYAMLDepth = 32

// entry is one flattened key of the configuration file.
type entry struct {
	key   string // dotted: nested mappings joined with '.'
	value string // the scalar's text, whatever its YAML type; "" for null
	line  int
}

// readYAML reads the configuration file at path and flattens it into
// dotted keys. A missing file is no error. Flat keys ("heartbeat.timeout: 5s"),
// nested mappings ("heartbeat: {timeout: 5s}") and mixtures flatten alike.
func readYAML(path string) ([]entry, []error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("config: read %s: %w", path, err)}
	}
	return parseYAML(path, data)
}

// parseYAML flattens the YAML document data read from path.
func parseYAML(path string, data []byte) ([]entry, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{fmt.Errorf("config: parse %s: %w", path, err)}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	switch {
	case root.Kind == 0, root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		return nil, nil // empty, or only comments
	case root.Kind != yaml.MappingNode:
		return nil, []error{fmt.Errorf("config: %s:%d: want a mapping of keys to values at the top level", path, root.Line)}
	}
	f := flattener{path: path}
	f.mapping(root, "", 0)
	return f.entries, f.errs
}

// flattener collects the entries and the problems of one file.
type flattener struct {
	path    string
	entries []entry
	errs    []error
}

func (f *flattener) mapping(n *yaml.Node, prefix string, depth int) {
	if depth > maxYAMLDepth {
		f.errs = append(f.errs, fmt.Errorf("config: %s:%d: mappings nested deeper than %d", f.path, n.Line, maxYAMLDepth))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			f.errs = append(f.errs, fmt.Errorf("config: %s:%d: want a non-empty key in %q", f.path, k.Line, prefix))
			continue
		}
		key := k.Value
		if prefix != "" {
			key = prefix + "." + key
		}
		switch {
		case v == nil:
			f.errs = append(f.errs, fmt.Errorf("config: %s:%d: %s: bad alias", f.path, k.Line, key))
		case v.Kind == yaml.MappingNode:
			f.mapping(v, key, depth+1)
		case v.Kind == yaml.ScalarNode:
			value := v.Value
			if v.Tag == "!!null" {
				value = ""
			}
			f.entries = append(f.entries, entry{key: key, value: value, line: k.Line})
		default:
			f.errs = append(f.errs, &Error{Key: key, Value: "<" + kindName(v.Kind) + ">",
				Source: Source{Kind: SourceFile, File: f.path, Line: k.Line},
				Err:    errors.New("want a single value (a scalar) or a mapping of keys")})
		}
	}
}

// deref follows aliases (&anchor / *alias) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for range maxYAMLDepth {
		if n == nil || n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.DocumentNode:
		return "document"
	case yaml.AliasNode:
		return "alias"
	default:
		return "scalar"
	}
}
