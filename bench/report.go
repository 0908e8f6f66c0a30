package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one measured quantity with its samples.
type Figure struct {
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`
	Samples []float64 `json:"samples"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	// Target describes the goal, e.g. ">= 1000000"; empty when none.
	Target string `json:"target,omitempty"`
	// Met is whether the median meets Target; absent without a target.
	Met *bool `json:"met,omitempty"`
	// Note says how the figure was measured.
	Note string `json:"note,omitempty"`
}

// target is a figure's goal: the median compared with a bound.
type target struct {
	atLeast bool
	bound   float64
}

func (t *target) String() string {
	if t == nil {
		return ""
	}
	if t.atLeast {
		return fmt.Sprintf(">= %s", num(t.bound))
	}
	return fmt.Sprintf("< %s", num(t.bound))
}

// Report is everything one bench run measured.
type Report struct {
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	CPUs      int       `json:"cpus"`
	GoVersion string    `json:"go_version"`
	// LoadBefore and LoadAfter are /proc/loadavg's first three fields.
	LoadBefore string   `json:"load_before"`
	LoadAfter  string   `json:"load_after"`
	Figures    []Figure `json:"figures"`
	// Rescales are the rescale benchmark's individual rescales.
	Rescales []RescaleSample `json:"rescales,omitempty"`
	// Nexmark is the nexmark benchmark's table, one row per query.
	Nexmark []NexmarkRow `json:"nexmark,omitempty"`
}

func newReport() *Report {
	return &Report{Started: time.Now(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadavg()}
}

func (r *Report) finish() {
	r.Finished = time.Now()
	r.LoadAfter = loadavg()
}

// add records a figure from its samples; an empty sample set is recorded
// with zero statistics so that a missing figure shows in the table.
func (r *Report) add(name, unit string, samples []float64, t *target, note string) {
	f := Figure{Name: name, Unit: unit, Samples: samples, Target: t.String(), Note: note}
	if len(samples) > 0 {
		f.Median, f.Min, f.Max = median(samples), slices.Min(samples), slices.Max(samples)
		if t != nil {
			met := f.Median >= t.bound
			if !t.atLeast {
				met = f.Median < t.bound
			}
			f.Met = &met
		}
	}
	r.Figures = append(r.Figures, f)
}

func (r *Report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "tide bench: %d CPUs, %s, load %s before, %s after, %s\n",
		r.CPUs, r.GoVersion, r.LoadBefore, r.LoadAfter, r.Finished.Sub(r.Started).Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tmedian\tmin\tmax\tn\tunit\ttarget\tmet\t")
	for _, f := range r.Figures {
		met := ""
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*f.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t\n", f.Name, num(f.Median), num(f.Min), num(f.Max),
			len(f.Samples), f.Unit, f.Target, met)
	}
	tw.Flush()
	if len(r.Nexmark) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "nexmark\tevents\tp\tTide events/s/core\tFlink V1\tFlink V2\t÷ V1\t÷ V2\t>= 3×\tCPU s\twall s\trows\t")
	for _, n := range r.Nexmark {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t%.2f\t%.2f\t%s\t\n", n.Query, num(float64(n.Events)), n.Parallelism,
			num(n.PerCore), num(n.FlinkV1), num(n.FlinkV2), n.RatioV1, n.RatioV2, map[bool]string{true: "yes", false: "NO"}[n.Met],
			n.CPUSeconds, n.WallSeconds, num(float64(n.Rows)))
	}
	tw.Flush()
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// num formats a figure: large values with thousands separators, small
// ones with three significant decimals.
func num(x float64) string {
	if x >= 1000 || x <= -1000 {
		s := fmt.Sprintf("%.0f", x)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	}
	if x == float64(int64(x)) {
		return fmt.Sprintf("%d", int64(x))
	}
	return fmt.Sprintf("%.3f", x)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
