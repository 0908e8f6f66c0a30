package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// carData and topSpeeds are Flink's TopSpeedWindowing example input and
// its expected output.
var (
	carData, _   = filepath.Abs("../examples/topspeed/testdata/flink_car_data.txt")
	topSpeeds, _ = filepath.Abs("../examples/topspeed/testdata/flink_top_speeds.txt")
)

// byCar splits result lines by car, in order: across cars the order of
// the results is not defined.
func byCar(lines []string) map[string][]string {
	out := map[string][]string{}
	for _, l := range lines {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		car, _, _ := strings.Cut(strings.TrimPrefix(l, "("), ",")
		out[car] = append(out[car], l)
	}
	return out
}

func requireTopSpeeds(t *testing.T, got []string) {
	t.Helper()
	b, err := os.ReadFile(topSpeeds)
	if err != nil {
		t.Fatal(err)
	}
	want := byCar(strings.Split(string(b), "\n"))
	g := byCar(got)
	for car, lines := range want {
		if !slices.Equal(g[car], lines) {
			t.Errorf("car %s: %d results, want Flink's %d:\ngot  %q\nwant %q", car, len(g[car]), len(lines), g[car], lines)
		}
	}
	if len(g) != len(want) {
		t.Errorf("results for %d cars, want %d", len(g), len(want))
	}
}

// TestTopSpeedWindowingGettingStarted runs the getting-started steps with
// daemons: a standalone job of TopSpeedWindowing on Flink's example input,
// one TaskManager, and the results in the TaskManager's .out file, which
// are Flink's, car by car.
func TestTopSpeedWindowingGettingStarted(t *testing.T) {
	c := newCluster(t)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(tideBin, args...)
		cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tide %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		for _, args := range [][]string{{"taskmanager", "stop-all"}, {"standalone-job", "stop"}} {
			cmd := exec.Command(tideBin, args...)
			cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
			cmd.Run()
		}
	})
	run(append(append([]string{"standalone-job", "start", "-j", "TopSpeedWindowing"}, c.dynamic...), "--", "--input", carData)...)
	id := c.jobID(t)
	run(append([]string{"taskmanager", "start"}, c.dynamic...)...)
	eventually(t, 60*time.Second, "the job to finish", func() (bool, string) {
		j, err := c.job(id)
		return err == nil && j.State == "FINISHED", j.State
	})
	outs, _ := filepath.Glob(filepath.Join(c.home, "log", "tide-taskmanager-*.out"))
	var lines []string
	for _, f := range outs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	if len(outs) == 0 {
		t.Fatal("no taskmanager .out file under $TIDE_HOME/log")
	}
	requireTopSpeeds(t, lines)
}

// TestTopSpeedWindowingThroughAKill runs the same input on three
// TaskManagers into the exactly-once file sink, paced so that a
// TaskManager is killed (kill -9) in the middle: the committed results are
// still Flink's, car by car, none twice.
func TestTopSpeedWindowingThroughAKill(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=300ms")
	out := filepath.Join(c.dir, "out")
	jm := c.startJM("TopSpeedWindowing", "--input", carData, "--rate", "20", "--output", out)
	id := c.jobID(t)
	var tms []*proc
	for range 3 {
		tms = append(tms, c.startTM())
	}
	c.waitRunningAt(t, id, topSpeed, 3)
	c.waitCheckpoints(t, id, 2)
	tms[1].signal(syscall.SIGKILL)
	c.waitFinished(t, id, jm, 90*time.Second)
	requireTopSpeeds(t, committedLines(t, out))
}

// committedLines reads the committed part files of a file sink's
// directory in the order they were written: by attempt, then by sequence
// number (part-<attempt>-<subtask>-<seq>), so that each key's lines keep
// their order — a key is in one subtask per attempt.
func committedLines(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type part struct {
		name         string
		attempt, seq int
	}
	var parts []part
	for _, e := range es {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f := strings.Split(strings.TrimPrefix(e.Name(), "part-"), "-")
		if len(f) != 3 {
			t.Fatalf("part file %q", e.Name())
		}
		a, _ := strconv.Atoi(f[0])
		q, _ := strconv.Atoi(f[2])
		parts = append(parts, part{e.Name(), a, q})
	}
	slices.SortFunc(parts, func(x, y part) int {
		if x.attempt != y.attempt {
			return x.attempt - y.attempt
		}
		return x.seq - y.seq
	})
	var lines []string
	for _, p := range parts {
		b, err := os.ReadFile(filepath.Join(dir, p.name))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	return lines
}
