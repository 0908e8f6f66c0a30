package filesink

import (
	"fmt"
	"strconv"
	"strings"
)

// inProgressDir is the hidden subdirectory of the output directory holding
// in-progress and pending parts.
const inProgressDir = ".inprogress"

// partPrefix starts every part name.
const partPrefix = "part-"

// partName is the identity of one part file.
type partName struct {
	attempt uint64
	subtask int
	seq     uint64
}

func (p partName) String() string {
	return partPrefix + strconv.FormatUint(p.attempt, 10) + "-" +
		strconv.Itoa(p.subtask) + "-" + strconv.FormatUint(p.seq, 10)
}

// parsePartName parses a base name of the form part-<attempt>-<subtask>-<seq>.
// It accepts only the canonical form that String produces, so a parsed name
// is always a plain base name: no separators, no "..", no leading zeros.
func parsePartName(s string) (partName, error) {
	rest, ok := strings.CutPrefix(s, partPrefix)
	if !ok {
		return partName{}, fmt.Errorf("part name %q: want prefix %q", s, partPrefix)
	}
	fields := strings.Split(rest, "-")
	if len(fields) != 3 {
		return partName{}, fmt.Errorf("part name %q: want part-<attempt>-<subtask>-<seq>", s)
	}
	var p partName
	var err error
	if p.attempt, err = strconv.ParseUint(fields[0], 10, 64); err != nil {
		return partName{}, fmt.Errorf("part name %q: attempt: %w", s, err)
	}
	sub, err := strconv.ParseUint(fields[1], 10, 31)
	if err != nil {
		return partName{}, fmt.Errorf("part name %q: subtask: %w", s, err)
	}
	p.subtask = int(sub)
	if p.seq, err = strconv.ParseUint(fields[2], 10, 64); err != nil {
		return partName{}, fmt.Errorf("part name %q: sequence: %w", s, err)
	}
	if p.String() != s {
		return partName{}, fmt.Errorf("part name %q: not canonical (want %q)", s, p.String())
	}
	return p, nil
}
