package verify

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// outputLines returns the lines a correct Verify run writes, in emission
// order.
func outputLines(keys, count int) []string {
	countOf := make([]int, keys)
	sumOf := make([]int, keys)
	lines := make([]string, 0, count)
	for i := range count {
		k := i % keys
		countOf[k]++
		sumOf[k] += i
		lines = append(lines, fmt.Sprintf("%d,%d,%d", k, countOf[k], sumOf[k]))
	}
	return lines
}

// writeFiles writes lines into dir as files of at most per lines each.
func writeFiles(t testing.TB, dir string, lines []string, per int) {
	t.Helper()
	for i := 0; i*per < len(lines); i++ {
		chunk := lines[i*per : min((i+1)*per, len(lines))]
		writeFile(t, filepath.Join(dir, fmt.Sprintf("part-0-0-%d", i)), strings.Join(chunk, "\n")+"\n")
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, dir string, keys, count int) *Report {
	t.Helper()
	r, err := Check(dir, keys, count)
	if err != nil {
		t.Fatalf("Check(%s, %d, %d): %v", dir, keys, count, err)
	}
	return r
}

func TestCheckCorrect(t *testing.T) {
	tests := []struct{ keys, count int }{
		{1, 1}, {1, 100}, {7, 100}, {100, 7}, {3, 1000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("K=%d,N=%d", tt.keys, tt.count), func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, outputLines(tt.keys, tt.count), 13)
			r := check(t, dir, tt.keys, tt.count)
			if !r.OK() || r.Lines != tt.count || r.ExpectedLines != tt.count {
				t.Errorf("report for a correct output:\n%s", r)
			}
			// The same output checked as an unbounded run passes too, once
			// it holds every key.
			r = check(t, dir, tt.keys, 0)
			if tt.count >= tt.keys && (!r.OK() || r.ExpectedLines != tt.count) {
				t.Errorf("unbounded report for a correct output:\n%s", r)
			}
			if tt.count < tt.keys && (r.OK() || r.Missing != tt.keys-tt.count) {
				t.Errorf("unbounded report for an output without keys %d..%d:\n%s", tt.count, tt.keys-1, r)
			}
		})
	}
}

// TestCheckEmpty: an empty output fails, bounded or not, and says why.
func TestCheckEmpty(t *testing.T) {
	for _, count := range []int{0, 10} {
		t.Run(fmt.Sprintf("N=%d", count), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, ".inprogress", "part-0-0-0"), "0,1,0\n") // not committed
			r := check(t, dir, 10, count)
			want := "no lines: the output is empty (0 files); the file sink commits only when a checkpoint completes"
			if r.OK() || r.Missing != 10 || len(r.Problems) == 0 || r.Problems[0] != want {
				t.Errorf("report for an empty output, want first problem %q:\n%s", want, r)
			}
		})
	}
	r := check(t, t.TempDir(), 10, 0)
	if diff := cmp.Diff([]string{
		"no lines: the output is empty (0 files); the file sink commits only when a checkpoint completes",
		"keys 0..9: no lines (10 keys, count 1 of each missing)",
	}, r.Problems); diff != "" {
		t.Errorf("unbounded, empty: problems (-want +got):\n%s", diff)
	}
}

// TestCheckUnboundedMissingKeys: in an unbounded run every key 0..K-1 owes
// at least its count 1; keys without lines are reported as runs.
func TestCheckUnboundedMissingKeys(t *testing.T) {
	var lines []string
	for _, l := range outputLines(6, 60) {
		if k := l[0]; k != '1' && k != '3' && k != '4' {
			lines = append(lines, l)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, lines, 7)
	r := check(t, dir, 6, 0)
	want := []string{
		"key 1: no lines (count 1 missing)",
		"keys 3..4: no lines (2 keys, count 1 of each missing)",
	}
	if diff := cmp.Diff(want, r.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if r.OK() || r.Missing != 3 || r.ExpectedLines != 33 || r.Lines != 30 {
		t.Errorf("report:\n%s", r)
	}
}

func TestCheckEmptyBoundedIsMissingAll(t *testing.T) {
	r := check(t, t.TempDir(), 3, 10)
	want := []string{
		"no lines: the output is empty (0 files); the file sink commits only when a checkpoint completes",
		"key 0: counts 1..4 missing (4 lines)",
		"key 1: counts 1..3 missing (3 lines)",
		"key 2: counts 1..3 missing (3 lines)",
	}
	if r.OK() || r.Missing != 10 {
		t.Errorf("Missing = %d, OK = %v; want 10, false", r.Missing, r.OK())
	}
	if diff := cmp.Diff(want, r.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestCheckFaults corrupts a correct output (K=3, N=12, one file
// "part-0-0-0" with the lines in emission order; key 1's lines are
// 1,1,1 / 1,2,5 / 1,3,12 / 1,4,22) and expects exactly one precise problem.
func TestCheckFaults(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(lines []string) []string
		extra  map[string]string // more files, relative path -> content
		counts Report            // only the fault counters are compared
		want   []string
	}{
		{
			name:   "missing line",
			edit:   func(l []string) []string { return append(l[:4:4], l[5:]...) }, // drops 1,2,5
			counts: Report{Missing: 1},
			want:   []string{"key 1: count 2 missing"},
		},
		{
			name:   "missing tail",
			edit:   func(l []string) []string { return l[:9] }, // drops 0,4,18 1,4,22 2,4,26
			counts: Report{Missing: 3},
			want:   []string{"key 0: count 4 missing", "key 1: count 4 missing", "key 2: count 4 missing"},
		},
		{
			name:   "duplicate line",
			edit:   func(l []string) []string { return append(l, l[4]) },
			counts: Report{Duplicates: 1},
			want:   []string{"part-0-0-0:13: key 1 count 2: duplicate"},
		},
		{
			name:   "wrong sum",
			edit:   func(l []string) []string { l[7] = "1,3,13"; return l },
			counts: Report{WrongSums: 1},
			want:   []string{"part-0-0-0:8: key 1 count 3: sum 13, want 12"},
		},
		{
			name:   "malformed line",
			edit:   func(l []string) []string { l[1] = "1;1;1"; return l },
			counts: Report{Malformed: 1, Missing: 1},
			want: []string{
				`part-0-0-0:2: malformed line "1;1;1": want "key,count,sum"`,
				"key 1: count 1 missing",
			},
		},
		{
			name:   "malformed number",
			edit:   func(l []string) []string { l[1] = "1,x,1"; return l },
			counts: Report{Malformed: 1, Missing: 1},
			want:   []string{`part-0-0-0:2: malformed line "1,x,1": count not a decimal integer`, "key 1: count 1 missing"},
		},
		{
			name:   "key out of range",
			edit:   func(l []string) []string { return append(l, "3,1,3") },
			counts: Report{UnknownKeys: 1},
			want:   []string{`part-0-0-0:13: key 3 not in [0, 3) (line "3,1,3")`},
		},
		{
			name:   "negative key",
			edit:   func(l []string) []string { return append(l, "-1,1,0") },
			counts: Report{UnknownKeys: 1},
			want:   []string{`part-0-0-0:13: key -1 not in [0, 3) (line "-1,1,0")`},
		},
		{
			name:   "count beyond n_k",
			edit:   func(l []string) []string { return append(l, "2,5,40") },
			counts: Report{OutOfRange: 1},
			want:   []string{"part-0-0-0:13: key 2: count 5 outside 1..4"},
		},
		{
			name:   "line in .inprogress ignored",
			edit:   func(l []string) []string { return l },
			extra:  map[string]string{".inprogress/part-0-0-1": "1,2,5\nbad\n", ".hidden": "bad\n"},
			counts: Report{},
		},
		{
			name:   "second file and subdirectory read",
			edit:   func(l []string) []string { return l[:11] },
			extra:  map[string]string{"sub/part-1-0-0": "2,4,26\n2,4,26\n"},
			counts: Report{Duplicates: 1},
			want:   []string{"sub/part-1-0-0:2: key 2 count 4: duplicate"},
		},
		{
			name: "torn last line",
			edit: func(l []string) []string { return l },
			extra: map[string]string{
				"part-0-0-1": "0,1,0\n2,4,2", // a duplicate, then a torn line
			},
			counts: Report{Duplicates: 1, Malformed: 1},
			want: []string{
				"part-0-0-1:1: key 0 count 1: duplicate",
				`part-0-0-1:2: malformed line "2,4,2": no newline at end of file (torn write?)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lines := tt.edit(outputLines(3, 12))
			writeFile(t, filepath.Join(dir, "part-0-0-0"), strings.Join(lines, "\n")+"\n")
			for name, content := range tt.extra {
				writeFile(t, filepath.Join(dir, name), content)
			}
			r := check(t, dir, 3, 12)
			got := Report{Missing: r.Missing, Duplicates: r.Duplicates, WrongSums: r.WrongSums,
				Malformed: r.Malformed, UnknownKeys: r.UnknownKeys, OutOfRange: r.OutOfRange}
			if diff := cmp.Diff(tt.counts, got, cmp.AllowUnexported(Report{})); diff != "" {
				t.Errorf("fault counts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, r.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if r.OK() != (len(tt.want) == 0) {
				t.Errorf("OK() = %v with problems %q", r.OK(), r.Problems)
			}
		})
	}
}

func TestCheckUnbounded(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
		lines   int // ExpectedLines
	}{
		{"partial but complete", "0,1,0\n1,1,1\n0,2,2\n", nil, 3},
		{"gap", "0,1,0\n0,3,6\n1,1,1\n", []string{"key 0: count 2 missing"}, 4},
		{"count zero", "0,0,0\n1,1,1\n", []string{"f:1: key 0: count 0, want at least 1", "key 0: no lines (count 1 missing)"}, 2},
		{"count larger than the output allows", "0,1,0\n0,1000000000000,0\n1,1,1\n",
			[]string{"f:2: key 0: count 1000000000000 cannot be complete: the output's 30 bytes hold at most 5 lines"}, 2},
		{"key missing", "0,1,0\n0,2,2\n", []string{"key 1: no lines (count 1 missing)"}, 3},
		{"duplicate", "0,1,0\n1,1,1\n0,1,0\n", []string{"f:3: key 0 count 1: duplicate"}, 2},
		{"wrong sum", "0,1,0\n1,1,1\n0,2,3\n", []string{"f:3: key 0 count 2: sum 3, want 2"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "f"), tt.content)
			r := check(t, dir, 2, 0)
			if diff := cmp.Diff(tt.want, r.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if r.ExpectedLines != tt.lines {
				t.Errorf("ExpectedLines = %d, want %d", r.ExpectedLines, tt.lines)
			}
		})
	}
}

// TestCheckUnboundedMemoryBudget gives every key one line with a count that
// alone is possible but that together need far more lines than the output
// holds: Check stops recording counts instead of allocating for them.
func TestCheckUnboundedMemoryBudget(t *testing.T) {
	const keys = 100
	var b strings.Builder
	for k := range keys {
		fmt.Fprintf(&b, "%d,%d,%d\n", k, keys, expectedSum(uint64(k), keys, keys))
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), b.String())
	r := check(t, dir, keys, 0)
	maxLines := b.Len() / minLineBytes
	if maxLines < keys || r.OutOfRange == 0 {
		t.Fatalf("maxLines %d, report:\n%s", maxLines, r)
	}
	if want := budgetFactor*maxLines/keys + 1; r.OutOfRange != keys-want+1 {
		t.Errorf("OutOfRange = %d, want %d (only the first %d keys fit the budget)", r.OutOfRange, keys-want+1, want-1)
	}
	if !strings.Contains(r.Problems[len(r.Problems)-1], "not recorded") {
		t.Errorf("last problem = %q, want a 'not recorded' one", r.Problems[len(r.Problems)-1])
	}
}

func TestCheckLongLine(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("9", readBufferSize+10)
	writeFile(t, filepath.Join(dir, "f"), "0,1,0\n"+long+"\n0,2,1\n")
	r := check(t, dir, 1, 2)
	if r.Malformed != 1 || r.Lines != 3 || r.Missing != 0 {
		t.Errorf("report:\n%s", r)
	}
	if len(r.Problems) != 1 || !strings.HasPrefix(r.Problems[0], "f:2: malformed line") {
		t.Errorf("problems = %q", r.Problems)
	}
}

func TestCheckProblemsCapped(t *testing.T) {
	r := check(t, t.TempDir(), 200, 200) // every key misses its count 1
	if r.Missing != 200 || len(r.Problems) != maxProblems {
		t.Errorf("Missing = %d, %d problems; want 200, %d", r.Missing, len(r.Problems), maxProblems)
	}
	s := r.String()
	for _, want := range []string{"FAILED", "missing 200", "problems (first 50 of 201)", "key 48: count 1 missing"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() does not contain %q:\n%s", want, s)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, "")
	missing := filepath.Join(dir, "nope")
	tests := []struct {
		name        string
		dir         string
		keys, count int
		want        string
	}{
		{"zero keys", dir, 0, 1, "keys 0"},
		{"negative count", dir, 1, -1, "count -1"},
		{"missing dir", missing, 1, 1, missing + " does not exist"},
		{"missing dir, unbounded", missing, 1, 0, missing + " does not exist"},
		{"not a dir", file, 1, 1, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.dir, tt.keys, tt.count)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	const keys, count = 1000, 1_000_000
	dir := b.TempDir()
	writeFiles(b, dir, outputLines(keys, count), count/16)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Check(dir, keys, count)
		if err != nil {
			b.Fatal(err)
		}
		if !r.OK() {
			b.Fatalf("report:\n%s", r)
		}
	}
}
