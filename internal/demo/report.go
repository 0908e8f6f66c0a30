// Package demo reproduces the seed's experiment on one machine and reports
// it: the four panels of its dashboard over time (consumer lag,
// throughput, CPU per TaskManager, TaskManager count) with the rescales
// marked, and a summary per autoscaling policy. This file is the report:
// what a run recorded, its summary, and the files written from it.
package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Point is one sample of a series.
type Point struct {
	At    time.Time
	Value float64
}

// Rescale is one rescale of a run, as the JobManager reported it.
type Rescale struct {
	At       time.Time
	Trigger  string
	From, To int
	Pause    time.Duration
}

// Run is what one run recorded.
type Run struct {
	Policy     string
	Start, End time.Time
	// Lag is the source's pending records; Input the records/s arriving at
	// the topic; Throughput the records/s the job consumed.
	Lag, Input, Throughput []Point
	// CPU is each TaskManager's CPU use in cores, by TaskManager.
	CPU map[string][]Point
	// TaskManagers is the TaskManager count.
	TaskManagers []Point
	Rescales     []Rescale
}

// Summary is a run's figures, in summary.json's shape.
type Summary struct {
	Policy             string  `json:"policy"`
	PeakLagRecords     float64 `json:"peak_lag_records"`
	PeakLagSeconds     float64 `json:"peak_lag_seconds"`
	TaskManagerSeconds float64 `json:"taskmanager_seconds"`
	Rescales           int     `json:"rescales"`
	PauseMsTotal       int64   `json:"pause_ms_total"`
}

// Summarize computes a run's figures: the peak lag in records and in
// seconds of input (the lag over the input rate of the minute before),
// the TaskManager-seconds (the count integrated over the run), the
// rescales after the first deployment and their summed pause.
func (r *Run) Summarize() Summary {
	s := Summary{Policy: r.Policy}
	for _, p := range r.Lag {
		s.PeakLagRecords = max(s.PeakLagRecords, p.Value)
		if rate := meanBefore(r.Input, p.At, time.Minute); rate > 0 {
			s.PeakLagSeconds = max(s.PeakLagSeconds, p.Value/rate)
		}
	}
	for i := 1; i < len(r.TaskManagers); i++ {
		a, b := r.TaskManagers[i-1], r.TaskManagers[i]
		s.TaskManagerSeconds += a.Value * b.At.Sub(a.At).Seconds()
	}
	for _, rs := range r.Rescales {
		if rs.Trigger == "initial" {
			continue
		}
		s.Rescales++
		s.PauseMsTotal += rs.Pause.Milliseconds()
	}
	return s
}

// meanBefore is the mean of the points in (at−window, at], 0 for none.
func meanBefore(ps []Point, at time.Time, window time.Duration) float64 {
	sum, n := 0.0, 0
	for _, p := range ps {
		if p.At.After(at.Add(-window)) && !p.At.After(at) {
			sum, n = sum+p.Value, n+1
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Write writes dir/report.html, a chart per panel and run (SVG), and
// dir/summary.json.
func Write(dir string, runs []*Run) error {
	if len(runs) == 0 {
		return errors.New("demo: no run to report")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: report directory: %w", err)
	}
	type chart struct{ Title, File string }
	type runView struct {
		Summary Summary
		Charts  []chart
	}
	var views []runView
	var sums []Summary
	for _, r := range runs {
		s := r.Summarize()
		sums = append(sums, s)
		v := runView{Summary: s}
		panels := []struct {
			title, unit string
			lines       map[string][]Point
		}{
			{"Kafka consumer lag", "records", map[string][]Point{"lag": r.Lag}},
			{"Throughput", "records/s", map[string][]Point{"consumed": r.Throughput, "input": r.Input}},
			{"CPU per TaskManager", "cores", r.CPU},
			{"TaskManagers", "count", map[string][]Point{"TaskManagers": r.TaskManagers}},
		}
		for i, p := range panels {
			file := fmt.Sprintf("%s-%d.svg", r.Policy, i+1)
			if err := drawPanel(filepath.Join(dir, file), p.title, p.unit, r.Start, p.lines, r.Rescales); err != nil {
				return err
			}
			v.Charts = append(v.Charts, chart{Title: p.title, File: file})
		}
		views = append(views, v)
	}
	b, err := json.MarshalIndent(struct {
		Runs []Summary `json:"runs"`
	}{sums}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer f.Close()
	if err := reportPage.Execute(f, views); err != nil {
		return fmt.Errorf("demo: report.html: %w", err)
	}
	return f.Close()
}

// drawPanel plots one panel: a line per series over minutes since start,
// and a dashed vertical line at each rescale after the first deployment.
func drawPanel(path, title, unit string, start time.Time, lines map[string][]Point, rescales []Rescale) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "minutes"
	p.Y.Label.Text = unit
	p.Legend.Top = true
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	slices.Sort(names)
	top := 0.0
	for i, n := range names {
		xys := make(plotter.XYs, 0, len(lines[n]))
		for _, pt := range lines[n] {
			if math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.At.Sub(start).Minutes(), Y: pt.Value})
			top = max(top, pt.Value)
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", title, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(n, l)
	}
	for _, rs := range rescales {
		if rs.Trigger == "initial" {
			continue
		}
		x := rs.At.Sub(start).Minutes()
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: max(top, 1)}})
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 230, G: 120, B: 0, A: 255}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(l)
	}
	p.Y.Min = 0
	if err := p.Save(7*vg.Inch, 2.6*vg.Inch, path); err != nil {
		return fmt.Errorf("demo: %s: %w", path, err)
	}
	return nil
}

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tide demo</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}img{display:block;margin:8px 0}</style>
</head><body>
<h1>Tide demo: the seed's experiment</h1>
<p>A Kafka topic fed at the seed's shape, the CPULoad job in reactive mode, and an autoscaler adding and removing
TaskManagers (each a process in a cgroup with a pod's CPU request and limit). Dashed lines mark rescales.</p>
<table><tr><th>policy</th><th>peak lag (records)</th><th>peak lag (s of input)</th><th>TaskManager-seconds</th><th>rescales</th><th>total pause (ms)</th></tr>
{{range .}}<tr><td>{{.Summary.Policy}}</td><td>{{printf "%.0f" .Summary.PeakLagRecords}}</td><td>{{printf "%.2f" .Summary.PeakLagSeconds}}</td><td>{{printf "%.0f" .Summary.TaskManagerSeconds}}</td><td>{{.Summary.Rescales}}</td><td>{{.Summary.PauseMsTotal}}</td></tr>
{{end}}</table>
{{range .}}<h2>Policy {{.Summary.Policy}}</h2>
{{range .Charts}}<img src="{{.File}}" alt="{{.Title}}">
{{end}}{{end}}
</body></html>
`))
