package config

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// HomeEnv is the environment variable that names TIDE_HOME. It is not a key.
const HomeEnv = "TIDE_HOME"

// DefaultHome is TIDE_HOME when neither LoadOptions.Home nor $TIDE_HOME is
// set, relative to the current directory.
const DefaultHome = "./tide-home"

// LoadOptions says where Load finds the configuration.
type LoadOptions struct {
	// Home is TIDE_HOME; "" means $TIDE_HOME from Environ, else DefaultHome.
	// It is made absolute.
	Home string
	// Environ holds environment variables in os.Environ() form; nil means
	// none. Only TIDE_HOME and the variables of known keys are read.
	Environ []string
	// Dynamic holds the values of -D flags, each "key=value"; a later one
	// wins over an earlier one for the same key.
	Dynamic []string
}

// ConfigFile returns the path of the configuration file under home.
func ConfigFile(home string) string { return filepath.Join(home, "conf", "config.yaml") }

// setting is a raw value and where it came from.
type setting struct {
	name string // the key as written: the canonical key or an alias
	raw  string
	src  Source
}

// Load resolves the configuration from, later wins: the defaults,
// ConfigFile(home) (optional), the environment variables TIDE_<KEY> in
// opts.Environ and opts.Dynamic. Every value is parsed and validated. All
// problems are reported at once, joined with errors.Join; each is an *Error
// that names the key, the value and its source, except for an unreadable or
// malformed file or -D argument.
func Load(opts LoadOptions) (*Config, error) {
	home, err := resolveHome(opts)
	if err != nil {
		return nil, err
	}
	var errs []error
	settings := map[string]setting{}

	// The file: a key set twice in it, possibly once by an alias, is an error.
	path := ConfigFile(home)
	entries, ferrs := readYAML(path)
	for _, err := range ferrs {
		errs = append(errs, located(Source{Kind: SourceFile, File: path}, err))
	}
	seen := map[string]Source{}
	for _, e := range entries {
		src := Source{Kind: SourceFile, File: path, Line: e.line}
		o, ok := lookup(e.key)
		if !ok {
			errs = append(errs, &Error{Key: e.key, Value: e.value, Source: src, Err: ErrUnknownKey})
			continue
		}
		if prev, dup := seen[o.Key]; dup {
			errs = append(errs, &Error{Key: e.key, Value: e.value, Source: src, Err: fmt.Errorf("%s is also set at %s", o.Key, prev)})
			continue
		}
		seen[o.Key] = src
		settings[o.Key] = setting{name: e.key, raw: e.value, src: src}
	}

	// The environment: a variable set twice counts once (the later); a key
	// set by two variables (an alias's and its own) is an error.
	clear(seen)
	for _, kv := range opts.Environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "TIDE_") {
			continue
		}
		o, ok := lookupEnv(name)
		if !ok {
			continue
		}
		src := Source{Kind: SourceEnv, Env: name}
		if prev, dup := seen[o.Key]; dup && prev.Env != name {
			errs = append(errs, &Error{Key: o.Key, Value: value, Source: src, Err: fmt.Errorf("%s is also set by %s", o.Key, prev)})
			continue
		}
		seen[o.Key] = src
		settings[o.Key] = setting{name: o.Key, raw: value, src: src}
	}

	// The -D flags: a later one wins, as with any command-line flag.
	for _, arg := range opts.Dynamic {
		key, value, err := ParseDynamic(arg)
		if err != nil {
			errs = append(errs, located(Source{Kind: SourceDynamic}, fmt.Errorf("config: %w", err)))
			continue
		}
		src := Source{Kind: SourceDynamic}
		o, ok := lookup(key)
		if !ok {
			errs = append(errs, &Error{Key: key, Value: value, Source: src, Err: ErrUnknownKey})
			continue
		}
		settings[o.Key] = setting{name: key, raw: value, src: src}
	}

	c, rerrs := resolve(home, settings)
	errs = append(errs, rerrs...)
	if len(errs) > 0 {
		sortBySource(errs)
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// resolve applies the defaults and then settings to a new Config, in the
// order of the key table, so that scheduler-mode is known before the
// defaults that depend on it. It then checks the constraints between keys.
func resolve(home string, settings map[string]setting) (*Config, []error) {
	var errs []error
	c := &Config{Home: home, sources: make(map[string]Source, len(options))}
	bad := map[string]bool{}
	for i := range options {
		o := &options[i]
		def := o.defaultValue(defaultContext{mode: c.SchedulerMode, home: home})
		if err := o.set(c, def); err != nil {
			// The key table is wrong; report it rather than panic.
			errs = append(errs, &Error{Key: o.Key, Value: def, Source: Source{Kind: SourceDefault}, Err: err})
		}
		c.sources[o.Key] = Source{Kind: SourceDefault}
		s, ok := settings[o.Key]
		if !ok {
			continue
		}
		if err := o.set(c, s.raw); err != nil {
			errs = append(errs, &Error{Key: s.name, Value: s.raw, Source: s.src, Err: err})
			bad[o.Key] = true
			continue
		}
		c.sources[o.Key] = s.src
	}
	for _, r := range relations {
		if bad[r.lo] || bad[r.hi] || r.ok(c) {
			continue
		}
		// Blame the key set with the higher precedence: it is the one more
		// likely changed without regard for the other.
		e := &Error{Key: r.hi, Value: c.Get(r.hi), Source: c.Source(r.hi),
			Err: fmt.Errorf("must be at least %s, which is %q from %s", r.lo, c.Get(r.lo), c.Source(r.lo))}
		if c.Source(r.lo).Kind > c.Source(r.hi).Kind {
			e = &Error{Key: r.lo, Value: c.Get(r.lo), Source: c.Source(r.lo),
				Err: fmt.Errorf("must be at most %s, which is %q from %s", r.hi, c.Get(r.hi), c.Source(r.hi))}
		}
		errs = append(errs, e)
	}
	for _, r := range requirements {
		if !bad[r.when] && r.on(c) {
			for _, k := range r.need {
				if v := c.Get(k); !bad[k] && (v == "" || v == "false") {
					errs = append(errs, &Error{Key: r.when, Value: c.Get(r.when), Source: c.Source(r.when),
						Err: fmt.Errorf("needs %s", k)})
				}
			}
		}
	}
	return c, errs
}

// requirement says that the keys need must be set (a path) or true (a
// bool) when key when is on.
type requirement struct {
	when string
	on   func(c *Config) bool
	need []string
}

var requirements = []requirement{
	{"security.ssl.internal.enabled", func(c *Config) bool { return c.InternalTLS.Enabled },
		[]string{"security.ssl.internal.cert-file", "security.ssl.internal.key-file", "security.ssl.internal.ca-file"}},
	{"security.ssl.rest.enabled", func(c *Config) bool { return c.RESTTLS.Enabled },
		[]string{"security.ssl.rest.cert-file", "security.ssl.rest.key-file"}},
	{"security.ssl.rest.authentication-enabled", func(c *Config) bool { return c.RESTTLS.ClientAuth },
		[]string{"security.ssl.rest.enabled", "security.ssl.rest.ca-file"}},
}

// relation is a constraint lo ≤ hi between two keys.
type relation struct {
	lo, hi string
	ok     func(c *Config) bool
}

var relations = []relation{
	{"heartbeat.interval", "heartbeat.timeout", func(c *Config) bool { return c.HeartbeatTimeout >= c.HeartbeatInterval }},
	{"parallelism.default", "pipeline.max-parallelism", func(c *Config) bool { return c.ParallelismDefault <= c.MaxParallelism }},
	{"restart-strategy.exponential-delay.initial-backoff", "restart-strategy.exponential-delay.max-backoff",
		func(c *Config) bool { return c.ExponentialDelayMaxBackoff >= c.ExponentialDelayInitialBackoff }},
}

// resolveHome returns the absolute TIDE_HOME.
func resolveHome(opts LoadOptions) (string, error) {
	home := opts.Home
	if home == "" {
		for _, kv := range opts.Environ {
			if v, ok := strings.CutPrefix(kv, HomeEnv+"="); ok && v != "" {
				home = v
			}
		}
	}
	if home == "" {
		home = DefaultHome
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("config: make TIDE_HOME %q absolute: %w", home, err)
	}
	return abs, nil
}

// locatedError attaches a source to an error that is not an *Error, so that
// sortBySource can place it.
type locatedError struct {
	src Source
	err error
}

func located(src Source, err error) error { return &locatedError{src: src, err: err} }

func (e *locatedError) Error() string { return e.err.Error() }
func (e *locatedError) Unwrap() error { return e.err }

// sortBySource orders a report as a user reads the sources: the defaults
// (only a broken key table), then the file by line, the environment, and -D.
// Problems in the same place keep their order.
func sortBySource(errs []error) {
	srcOf := func(err error) Source {
		var e *Error
		if errors.As(err, &e) {
			return e.Source
		}
		var l *locatedError
		if errors.As(err, &l) {
			return l.src
		}
		return Source{}
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		sa, sb := srcOf(a), srcOf(b)
		return cmp.Or(cmp.Compare(sa.Kind, sb.Kind), cmp.Compare(sa.Line, sb.Line))
	})
}
