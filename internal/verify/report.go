package verify

import (
	"fmt"
	"strings"
)

// maxProblems is how many problems a Report lists.
const maxProblems = 50

// Report is the result of checking one output directory.
type Report struct {
	// Dir is the directory checked, or "topic T" for CheckKafka.
	Dir string
	// Keys is K and Count is N of the run checked (Count 0: unbounded).
	Keys, Count int
	// Files is the number of visible files read.
	Files int
	// Partitions is the number of partitions read by CheckKafka, and
	// HeldBack the number of those whose last stable offset was below
	// their end offset: an open transaction held records back.
	Partitions, HeldBack int
	// ExpectedLines is the number of lines a correct output holds: N for a
	// bounded run, the sum over keys of the largest count (at least 1) for
	// an unbounded one.
	ExpectedLines int
	// Lines is the number of lines read, malformed ones included.
	Lines int
	// Missing counts the (key, count) pairs with no line; for an unbounded
	// run, a key with no line counts as its count 1 missing.
	Missing int
	// Duplicates counts lines whose (key, count) appeared before.
	Duplicates int
	// WrongSums counts lines whose sum is not the expected one.
	WrongSums int
	// Malformed counts lines that are not "key,count,sum" in decimal,
	// including an unterminated last line of a file.
	Malformed int
	// UnknownKeys counts lines whose key is not in [0, K).
	UnknownKeys int
	// OutOfRange counts lines whose count is outside 1..n_k (or, for an
	// unbounded run, larger than the output's size allows).
	OutOfRange int
	// Problems describes the first 50 faults precisely: file:line, key,
	// count, expected versus got.
	Problems []string
	// omitted is the number of problems beyond the first 50.
	omitted int
}

// OK reports whether the output is exactly right.
func (r *Report) OK() bool {
	return r.faults() == 0
}

func (r *Report) faults() int {
	return r.Missing + r.Duplicates + r.WrongSums + r.Malformed + r.UnknownKeys + r.OutOfRange
}

// addProblem records a problem, keeping only the first maxProblems.
func (r *Report) addProblem(format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.omitted++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// String is a human summary, one fact per line, ending with the problems.
func (r *Report) String() string {
	var b strings.Builder
	status := "OK"
	if !r.OK() {
		status = "FAILED"
	}
	count := fmt.Sprint(r.Count)
	if r.Count == 0 {
		count = "unbounded"
	}
	fmt.Fprintf(&b, "verify %s: %s\n", r.Dir, status)
	if r.Partitions > 0 {
		fmt.Fprintf(&b, "  keys %d, count %s, partitions %d (%d held back by an open transaction)\n", r.Keys, count, r.Partitions, r.HeldBack)
	} else {
		fmt.Fprintf(&b, "  keys %d, count %s, files %d\n", r.Keys, count, r.Files)
	}
	fmt.Fprintf(&b, "  lines: %d expected, %d read\n", r.ExpectedLines, r.Lines)
	fmt.Fprintf(&b, "  missing %d, duplicates %d, wrong sums %d, malformed %d, unknown keys %d, out of range %d\n",
		r.Missing, r.Duplicates, r.WrongSums, r.Malformed, r.UnknownKeys, r.OutOfRange)
	if len(r.Problems) > 0 {
		fmt.Fprintf(&b, "  problems (first %d of %d):\n", len(r.Problems), len(r.Problems)+r.omitted)
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	return b.String()
}
