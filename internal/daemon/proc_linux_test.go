//go:build linux

package daemon

import (
	"fmt"
	"os"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	fields := " 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %s 1000 100"
	for _, tt := range []struct {
		name string
		in   string
		want stat
		ok   bool
	}{
		{"running", "123 (tide) S" + fmt.Sprintf(fields, "5555"), stat{start: 5555}, true},
		{"zombie", "123 (tide) Z" + fmt.Sprintf(fields, "1"), stat{zombie: true, start: 1}, true},
		{"dead", "123 (tide) X" + fmt.Sprintf(fields, "1"), stat{zombie: true, start: 1}, true},
		{"comm with spaces and parens", "123 (a) b (c) R" + fmt.Sprintf(fields, "9"), stat{start: 9}, true},
		{"truncated", "123 (tide) S 1 1", stat{}, false},
		{"no comm", "garbage", stat{}, false},
		{"bad start", "123 (tide) S" + fmt.Sprintf(fields, "x"), stat{}, false},
	} {
		got, ok := parseProcStat(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: parseProcStat = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProcStatSelf(t *testing.T) {
	st, ok := procStat(os.Getpid())
	if !ok || st.zombie || st.start == 0 {
		t.Fatalf("procStat(self) = %+v, %v; want a live process with a start time", st, ok)
	}
	if !alive(os.Getpid(), st.start) || alive(os.Getpid(), st.start+1) {
		t.Fatal("alive ignores the recorded start time")
	}
}
