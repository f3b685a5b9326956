package collectors

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/internal/config"
)

// Config is one entry of the collectors: section of qualitymon.yaml.
//
//	collectors:
//	  - name: stats-drop
//	    type: filedrop
//	    schedule: "*/5 * * * *"    # 5 cron fields, or @daily, @every 10m
//	    timeout: 2m                # per run; default 5m
//	    options: {dir: var/drop}   # decoded strictly by the type's factory
type Config struct {
	Name     string          `yaml:"name"`
	Type     string          `yaml:"type"`
	Schedule string          `yaml:"schedule"`
	Timeout  config.Duration `yaml:"timeout"`
	Options  yaml.Node       `yaml:"options"`
}

// DefaultTimeout bounds a run when the config gives no timeout.
const DefaultTimeout = 5 * time.Minute

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	configKeys  = []string{"name", "type", "schedule", "timeout", "options"}
)

// LoadConfig decodes the collectors: section strictly and validates every
// entry against the registry: names unique, types known, cron schedules
// parsed, timeouts positive. Every error names the collector. An absent or
// null section means no collectors.
func LoadConfig(section *yaml.Node, registry map[string]Factory) ([]Config, error) {
	if section == nil || section.Kind == 0 || (section.Kind == yaml.ScalarNode && section.Tag == "!!null") {
		return nil, nil
	}
	if section.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("collectors: line %d: want a list of collectors", section.Line)
	}
	var out []Config
	var errs []error
	seen := map[string]int{}
	for i, item := range section.Content {
		where := fmt.Sprintf("collectors[%d]", i)
		if item.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("%s: line %d: want a mapping with name, type, schedule", where, item.Line))
			continue
		}
		var nameNode *yaml.Node
		var keyErrs []error
		for j := 0; j+1 < len(item.Content); j += 2 {
			k := item.Content[j]
			if !slices.Contains(configKeys, k.Value) {
				keyErrs = append(keyErrs, fmt.Errorf("line %d: unknown field %q (want %s)", k.Line, k.Value, strings.Join(configKeys, ", ")))
			}
			if k.Value == "name" {
				nameNode = item.Content[j+1]
			}
		}
		if nameNode != nil && nameNode.Value != "" {
			where = fmt.Sprintf("collector %q", nameNode.Value)
		}
		for _, e := range keyErrs {
			errs = append(errs, fmt.Errorf("%s: %w", where, e))
		}
		if len(keyErrs) > 0 {
			continue
		}
		var c Config
		if err := item.Decode(&c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if verrs := c.validate(registry); len(verrs) > 0 {
			for _, e := range verrs {
				errs = append(errs, fmt.Errorf("%s: %w", where, e))
			}
			continue
		}
		if first, dup := seen[c.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: line %d: name given twice (first on line %d)", where, item.Line, first))
			continue
		}
		seen[c.Name] = item.Line
		out = append(out, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Config) validate(registry map[string]Factory) []error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name: required"))
	} else if !namePattern.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name: %q must match %s (it becomes a metric label)", c.Name, namePattern))
	}
	if _, ok := registry[c.Type]; !ok {
		errs = append(errs, fmt.Errorf("type: unknown type %q (want one of %s)", c.Type, strings.Join(Types(registry), ", ")))
	}
	if c.Schedule == "" {
		errs = append(errs, errors.New(`schedule: required (5 cron fields such as "0 6 * * *", or @daily, @every 10m)`))
	} else if _, err := config.Parser.Parse(c.Schedule); err != nil {
		errs = append(errs, fmt.Errorf("schedule: %q: %v", c.Schedule, err))
	}
	if c.Timeout == 0 {
		c.Timeout = config.Duration(DefaultTimeout)
	}
	return errs
}

// Types lists the registry's type names, sorted.
func Types(registry map[string]Factory) []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
