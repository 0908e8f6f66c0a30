package filesink

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParsePartName: part names come back from checkpoints (DecodeState)
// and from directory listings (CleanStale), and a parsed one is joined
// into paths: it is canonical (String gives it back) and a plain base
// name, never a path.
func FuzzParsePartName(f *testing.F) {
	for _, s := range []string{"part-12-3-0", "part-0-0-0", "part-1-2147483648-0", "part-01-2-3", "part-1-2-3/../x", "part-1-+2-3", "part-18446744073709551615-2147483647-18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePartName(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("parsePartName(%q) = %+v, which is %q", s, p, p.String())
		}
		if p.subtask < 0 || filepath.Base(s) != s || strings.ContainsAny(s, `/\.`) || s != filepath.Clean(s) {
			t.Fatalf("parsePartName(%q) accepted a name that is not a plain base name", s)
		}
	})
}
