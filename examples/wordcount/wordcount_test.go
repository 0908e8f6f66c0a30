package wordcount_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/wordcount"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// want computes the job's output in Go: a running count per word.
func want(lines []string) []string {
	counts := map[string]int64{}
	var out []string
	for _, l := range lines {
		var ws []string
		wordcount.Tokenize(l, emitter(func(w string) { ws = append(ws, w) }))
		for _, w := range ws {
			counts[w]++
			out = append(out, wordcount.Count{Word: w, Count: counts[w]}.String())
		}
	}
	slices.Sort(out)
	return out
}

type emitter func(string)

func (e emitter) Emit(w string) { e(w) }

// committed reads the file sink's committed lines.
func committed(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "part-*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Fields(string(b))...)
	}
	slices.Sort(out)
	return out
}

// TestGeneratedTextThroughARescale counts generated text while a second
// TaskManager joins: the committed counts equal the counts computed in Go.
func TestGeneratedTextThroughARescale(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	c := tidetest.Start(t, tidetest.Config{
		Job:                wordcount.Build,
		Args:               []string{"--lines", "3000", "--rate", "2000", "--output", out},
		TaskManagers:       1,
		CheckpointInterval: 100 * time.Millisecond,
	})
	c.WaitParallelism(1, 30*time.Second)
	c.AddTaskManager()
	c.WaitParallelism(2, 30*time.Second)
	// The non-parallel source keeps parallelism 1 while the rest rescales.
	for _, v := range c.Job().Vertices {
		if want := map[bool]int{true: 1, false: 2}[v.Name == "Text"]; v.Parallelism != want {
			t.Errorf("vertex %s at parallelism %d, want %d", v.Name, v.Parallelism, want)
		}
	}
	c.WaitState(tidetest.Finished, 30*time.Second)
	var lines []string
	for i := range int64(3000) {
		lines = append(lines, wordcount.Line(i))
	}
	if got, w := committed(t, out), want(lines); !slices.Equal(got, w) {
		t.Fatalf("counts differ: %d lines committed, want %d", len(got), len(w))
	}
}

// TestFileInput counts the words of a file.
func TestFileInput(t *testing.T) {
	dir := t.TempDir()
	text := "To be, or not to be: that is the question.\nWhether 'tis nobler in the mind to suffer\n"
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	c := tidetest.Start(t, tidetest.Config{Job: wordcount.Build, Args: []string{"--input", in, "--output", out}, TaskManagers: 2})
	c.WaitState(tidetest.Finished, 30*time.Second)
	if got, w := committed(t, out), want(strings.Split(strings.TrimSpace(text), "\n")); !slices.Equal(got, w) {
		t.Fatalf("counts:\n got %v\nwant %v", got, w)
	}
}

func TestBadArgs(t *testing.T) {
	for _, args := range [][]string{{"--lines", "-1"}, {"--input", "/no/such/file"}, {"extra"}, {"--rate", "-2"}} {
		if err := wordcount.Build(stream.NewEnv(128), args); err == nil {
			t.Errorf("WordCount %v: no error", args)
		}
	}
}
