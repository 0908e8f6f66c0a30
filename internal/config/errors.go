package config

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrUnknownKey is the cause of an *Error for a key that Tide does not know.
var ErrUnknownKey = errors.New("config: unknown key")

// SourceKind says where a configuration value came from.
type SourceKind int

// The sources of a value, in increasing precedence.
const (
	SourceDefault SourceKind = iota // the key table's default
	SourceFile                      // $TIDE_HOME/conf/config.yaml
	SourceEnv                       // an environment variable TIDE_<KEY>
	SourceDynamic                   // a -Dkey=value flag
)

// Source says where a configuration value came from, precisely enough for
// an error message to point at it.
type Source struct {
	Kind SourceKind
	// File is the configuration file's path (SourceFile).
	File string
	// Line is the 1-based line in File, or 0 when unknown (SourceFile).
	Line int
	// Env is the environment variable's name (SourceEnv).
	Env string
}

// String names the source: "default", "/home/conf/config.yaml:3",
// "environment TIDE_HEARTBEAT_TIMEOUT" or "-D".
func (s Source) String() string {
	switch s.Kind {
	case SourceFile:
		if s.Line > 0 {
			return s.File + ":" + strconv.Itoa(s.Line)
		}
		return s.File
	case SourceEnv:
		return "environment " + s.Env
	case SourceDynamic:
		return "-D"
	default:
		return "default"
	}
}

// Error is one problem with one configuration value. Load joins all of them
// (errors.Join) so that a user sees every problem at once.
type Error struct {
	// Key is the key as the user wrote it (for unknown keys) or the key the
	// problem is about.
	Key string
	// Value is the offending raw value.
	Value string
	// Source is where Value came from.
	Source Source
	// Err is the cause: ErrUnknownKey, a parse error or a validation error.
	Err error
}

// Error reads like
// `config: heartbeat.timeout: bad value "abc" from /h/conf/config.yaml:3: parse duration "abc": …`.
func (e *Error) Error() string {
	if errors.Is(e.Err, ErrUnknownKey) {
		return fmt.Sprintf("config: unknown key %q (value %q) from %s%s", e.Key, e.Value, e.Source, suggestSuffix(e.Key))
	}
	return fmt.Sprintf("config: %s: bad value %q from %s: %v", e.Key, e.Value, e.Source, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// suggestSuffix returns `; did you mean "k"?` for the known key closest to
// key, or "" when none is close.
func suggestSuffix(key string) string {
	best, bestDist := "", len(key)/3+2
	for i := range options {
		for _, name := range options[i].names() {
			if d := editDistance(key, name); d < bestDist {
				best, bestDist = options[i].Key, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
