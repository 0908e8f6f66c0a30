package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Operator ids name an operator's state in checkpoints, so a restore finds
// the state of an operator by its id. An id must therefore survive edits of
// the job that do not touch the operator, and it must not depend on the
// operator's position in the graph: the first version of this package used
// "<index>-<name>", and inserting a Filter upstream shifted every id after
// it, so a restore no longer found their state.
//
// An operator's id is its UID when the job gives one (stream.UID), verbatim,
// so that it reads the same in the job's code, in logs and in checkpoint
// metadata. Otherwise it is derived from what identifies the operator
// locally: its name, its inputs' ids, and its ordinal among the operators
// with the same name and the same inputs (0 for the first declared, 1 for the
// next; sources share the "no input" input). An operator with one input
// hashes its input's id alone, as ids were derived before operators could
// have several inputs, so that their checkpoints still restore; one with
// several hashes their ids in order (inputKey). It reads
// "<sanitized name>-<8 hex digits>", the hex being the first four bytes of a
// SHA-256 over those three. Adding an operator elsewhere (a second pipeline,
// a sink on a side branch, an operator with another name on the same input)
// changes no existing id. An operator downstream of a changed one changes
// too, unless it or an operator between them has a UID: that is the price of
// not depending on position, the same as in Flink, and the reason jobs with
// state give their stateful operators UIDs.

// MaxUIDLen is the longest UID accepted.
const MaxUIDLen = 64

// maxNameInID bounds the name part of a default id.
const maxNameInID = 40

// ValidateUID reports whether uid can be an operator's id. Ids become parts
// of state file names, checkpoint metadata and log lines, so a UID is 1 to
// MaxUIDLen ASCII letters, digits, '.', '_' and '-', starting with a letter
// or a digit.
func ValidateUID(uid string) error {
	switch {
	case uid == "":
		return fmt.Errorf("uid is empty")
	case len(uid) > MaxUIDLen:
		return fmt.Errorf("uid %q is longer than %d bytes", uid, MaxUIDLen)
	case !isAlnum(uid[0]):
		return fmt.Errorf("uid %q must start with a letter or a digit", uid)
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("uid %q has %q at byte %d: only letters, digits, '.', '_' and '-' are allowed", uid, c, i)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// defaultID is the id of op, which has no UID, in g, where op's inputs (if
// any) already are.
func (g *Graph) defaultID(op *Operator) string {
	input := g.inputKey(op)
	ordinal := 0
	for _, o := range g.Operators {
		if o.Name == op.Name && g.inputKey(o) == input {
			ordinal++
		}
	}
	h := sha256.New()
	// Length-prefixed, so that no two (name, input) pairs hash the same bytes.
	for _, s := range []string{op.Name, input} {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	h.Write(binary.AppendUvarint(nil, uint64(ordinal)))
	name := sanitize(op.Name)
	if len(name) > maxNameInID {
		name = name[:maxNameInID]
	}
	if name == "" {
		name = "op"
	}
	return name + "-" + hex.EncodeToString(h.Sum(nil)[:4])
}

// inputKey is what identifies op's inputs in its default id: "" for a
// source, the input's id for an operator with one input (as before
// operators had several), and the inputs' ids, in order, joined by ','
// for an operator with several. No id has a ',', so no list of several
// inputs reads as one input; a side output's tag follows its producer's id
// after a '#', which no id has either.
func (g *Graph) inputKey(op *Operator) string {
	var b strings.Builder
	for i, in := range op.InputEdges() {
		if i > 0 {
			b.WriteByte(',')
		}
		if in.From < 0 || in.From >= len(g.Operators) {
			// Compile refuses the graph; any id will do meanwhile.
			fmt.Fprintf(&b, "#%d", in.From)
			continue
		}
		b.WriteString(g.Operators[in.From].ID)
		if in.Side != "" {
			b.WriteString("#" + in.Side)
		}
	}
	return b.String()
}

// checkIDs reports the first operator whose UID is invalid or whose id an
// earlier operator has.
func (g *Graph) checkIDs() error {
	seen := make(map[string]int, len(g.Operators))
	for i, op := range g.Operators {
		if op.UID != "" {
			if err := ValidateUID(op.UID); err != nil {
				return fmt.Errorf("operator %q: %w", op.Name, err)
			}
		}
		if j, dup := seen[op.ID]; dup {
			return g.idConflict(j, i)
		}
		seen[op.ID] = i
	}
	return nil
}

// idConflict describes operators j < i having the same id.
func (g *Graph) idConflict(j, i int) error {
	a, b := g.Operators[j], g.Operators[i]
	switch {
	case a.UID != "" && b.UID != "":
		return fmt.Errorf("operators %q and %q both have uid %q", a.Name, b.Name, a.UID)
	case a.UID != "":
		return fmt.Errorf("operator %q has uid %q, the id derived for operator %q; choose another uid", a.Name, a.UID, b.Name)
	case b.UID != "":
		return fmt.Errorf("operator %q has uid %q, the id derived for operator %q; choose another uid", b.Name, b.UID, a.Name)
	}
	return fmt.Errorf("operators %q and %q both get the id %q; give one of them a uid", a.Name, b.Name, a.ID)
}
