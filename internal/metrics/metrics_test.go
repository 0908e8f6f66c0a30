package metrics

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

var validName = regexp.MustCompile(`^tide_[a-z_]+$`)

// TestSeriesDeclarations: every series has a unique Prometheus name with the
// tide_ prefix, counters end in _total and gauges do not, and labels are
// Prometheus label names.
func TestSeriesDeclarations(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range All {
		if !validName.MatchString(s.Name) || seen[s.Name] {
			t.Errorf("series %q: invalid or declared twice", s.Name)
		}
		seen[s.Name] = true
		// tide_jobmanager_slots_total is a gauge by its fixed name (Flink's
		// taskSlotsTotal): the one gauge ending in _total.
		if s.Kind == Counter && !strings.HasSuffix(s.Name, "_total") ||
			s.Kind == Gauge && strings.HasSuffix(s.Name, "_total") && s != SlotsTotal {
			t.Errorf("series %q is a %v: counters, and only counters, end in _total", s.Name, s.Kind)
		}
		if s.Help == "" || (s.Process != JobManager && s.Process != TaskManager && s.Process != Autoscaler) {
			t.Errorf("series %q has no help or no process", s.Name)
		}
		for _, l := range s.Labels {
			if !regexp.MustCompile(`^[a-z_]+$`).MatchString(l) {
				t.Errorf("series %q: label %q", s.Name, l)
			}
		}
	}
}

func gather(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// TestCollect: the functions registered for a series are called at every
// scrape and their samples exported with the series' type and labels;
// removing one stops its samples.
func TestCollect(t *testing.T) {
	r := NewRegistry()
	n := 0.0
	rm1 := r.Collect(TaskRecordsIn, func(emit Emit) { n++; emit(n, "j", "job", "src", "0", "tm-1") })
	r.Collect(TaskRecordsIn, func(emit Emit) { emit(7, "j", "job", "src", "1", "tm-1") })
	r.Collect(TaskManagers, func(emit Emit) { emit(3) })
	fams := gather(t, r)
	in := fams["tide_task_records_in_total"]
	if in.GetType() != dto.MetricType_COUNTER || len(in.Metric) != 2 {
		t.Fatalf("records in: %v", in)
	}
	if fams["tide_jobmanager_taskmanagers"].Metric[0].GetGauge().GetValue() != 3 {
		t.Errorf("taskmanagers: %v", fams["tide_jobmanager_taskmanagers"])
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("no Go or process collector")
	}
	if gather(t, r)["tide_task_records_in_total"].Metric[0].GetCounter().GetValue() != 2 {
		t.Error("the collect function was not called again at the second scrape")
	}
	rm1()
	if in := gather(t, r)["tide_task_records_in_total"]; len(in.Metric) != 1 || in.Metric[0].GetCounter().GetValue() != 7 {
		t.Errorf("after removing a function: %v", in)
	}
}

// TestCollectWrongLabels: a sample with the wrong number of label values
// makes the scrape report an error for that series, not crash.
func TestCollectWrongLabels(t *testing.T) {
	r := NewRegistry()
	r.Collect(TaskIdle, func(emit Emit) { emit(1, "too", "few") })
	if _, err := r.Gatherer().Gather(); err == nil || !strings.Contains(err.Error(), "tide_task_idle_seconds_total") {
		t.Fatalf("Gather = %v, want an error naming the series", err)
	}
}

func TestUndeclaredSeriesPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	NewRegistry().Collect(&Series{Name: "tide_other", Kind: Gauge}, func(Emit) {})
}

// TestListenRange: a port in use is skipped for the next one of the range;
// a range whose every port is taken is an error naming it.
func TestListenRange(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	p := taken.Addr().(*net.TCPAddr).Port
	if _, err := Listen("127.0.0.1", p, p); err == nil || !strings.Contains(err.Error(), "no free port") {
		t.Errorf("Listen on a taken port: %v", err)
	}
	ln, err := Listen("127.0.0.1", p, p+20)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := ln.Addr().(*net.TCPAddr).Port; got <= p || got > p+20 {
		t.Errorf("bound port %d, want the next free one after %d", got, p)
	}
}

// TestServe scrapes /metrics over HTTP, and closes the server.
func TestServe(t *testing.T) {
	r := NewRegistry()
	r.Collect(SlotsTotal, func(emit Emit) { emit(4) })
	ln, err := Listen("127.0.0.1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(r, ln, slog.New(slog.DiscardHandler), Options{})
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "# TYPE tide_jobmanager_slots_total gauge\ntide_jobmanager_slots_total 4\n") {
		t.Errorf("scrape:\n%s", body)
	}
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/metrics"); err == nil {
		t.Error("the server still answers after Close")
	}
}

// TestScrapeDuringShutdown scrapes in a loop while the server closes and
// the series' sources go away: no panic, Close returns, and the scraper
// sees either answers or a refused connection.
func TestScrapeDuringShutdown(t *testing.T) {
	r := NewRegistry()
	remove := r.Collect(TaskManagers, func(emit Emit) { emit(1) })
	ln, err := Listen("127.0.0.1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(r, ln, slog.New(slog.DiscardHandler), Options{})
	done := make(chan int)
	go func() { // owner: this test, which waits on done
		n := 0
		for {
			resp, err := http.Get("http://" + srv.Addr() + "/metrics")
			if err != nil {
				done <- n
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n++
		}
	}()
	time.Sleep(50 * time.Millisecond)
	remove()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := <-done; n == 0 {
		t.Error("no scrape succeeded before the shutdown")
	}
}
