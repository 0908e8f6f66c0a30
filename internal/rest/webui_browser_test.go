package rest_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tide-stream/tide/examples/cpuload"
	"github.com/tide-stream/tide/internal/datagen"
	"github.com/tide-stream/tide/internal/kafkabroker"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/tidetest"
)

var (
	uiScreenshots = flag.Bool("ui.screenshots", false,
		"TestWebUIInBrowser: let the charts fill for a few minutes and save screenshots of the UI under docs/ (ui-overview.png, ui-charts.png)")
	uiScreenshotDir = flag.String("ui.screenshots.dir", "../../docs", "where -ui.screenshots and -ui.url save screenshots")
	uiURL           = flag.String("ui.url", "",
		"TestWebUIScreenshotsOf: the web UI of a cluster running elsewhere (real processes) to watch for -ui.watch and then screenshot")
	uiWatch = flag.Duration("ui.watch", 5*time.Minute, "how long TestWebUIScreenshotsOf watches -ui.url before the screenshots")
)

// newBrowser starts headless Chromium and answers a tab's context.
func newBrowser(t *testing.T, chromium string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	return ctx
}

// saveScreenshots saves the whole page as ui-overview.png and the four
// charts as ui-charts.png under -ui.screenshots.dir.
func saveScreenshots(t *testing.T, ctx context.Context) {
	shot := func(name string, a chromedp.Action[[]byte]) {
		png, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(*uiScreenshotDir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s", path)
	}
	shot("ui-overview.png", chromedp.FullScreenshot(100))
	shot("ui-charts.png", chromedp.Screenshot(chromedp.CSS(".charts")))
}

// TestWebUIScreenshotsOf, with -ui.url, watches the web UI of a cluster
// running elsewhere for -ui.watch (rescale it meanwhile: start or stop a
// TaskManager) and saves the screenshots; the README's come from a CPULoad
// job on TaskManager processes. Skipped without -ui.url.
func TestWebUIScreenshotsOf(t *testing.T) {
	if *uiURL == "" {
		t.Skip("no -ui.url")
	}
	ctx := newBrowser(t, chromiumPath(t))
	if err := chromedp.Do(ctx, chromedp.Navigate(*uiURL)); err != nil {
		t.Fatalf("loading %s: %v", *uiURL, err)
	}
	time.Sleep(*uiWatch)
	saveScreenshots(t, ctx)
}

// chromiumPath finds Chromium (or Chrome) on PATH: the test skips without
// one, unless TIDE_REQUIRE_CHROMIUM is set (./scripts/test sets it and
// installs Debian's chromium).
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TIDE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium not found on PATH and TIDE_REQUIRE_CHROMIUM is set (Debian: apt-get install chromium)")
	}
	t.Skip("chromium not installed (set TIDE_REQUIRE_CHROMIUM to make this a failure)")
	return ""
}

// uiState is what the test reads from the page: the charts' data (through
// window.tide, which the page sets for this) and the rendered text.
type uiState struct {
	TMs, Tput, Lag, CPU   int     // values each chart holds
	CPUSeries, TputSeries int     // series of the CPU and throughput charts
	TMsLast               float64 // the TaskManager chart's latest value
	Markers               int     // rescale markers drawn on the TaskManager chart
	Canvases              int
	Vertices              int // vertex boxes of the job graph
	Graph, Overview       string
	TMRows, RescaleRows   int
	Heartbeats            string
	Checkpoints           string // completed checkpoints, as the table shows them
	ExceptionRows         int
	Exceptions            string
	Error                 string
}

const uiStateJS = `(() => {
  const c = tide.charts, text = id => document.getElementById(id).innerText;
  const rows = id => document.querySelectorAll("#" + id + " tr").length - 1;
  const tms = c.tms.data["TaskManagers"] || [];
  return {
    TMs: c.tms.count(), Tput: c.tput.count(), Lag: c.lag.count(), CPU: c.cpu.count(),
    CPUSeries: c.cpu.names.length, TputSeries: c.tput.names.length,
    TMsLast: tms.length ? (tms[tms.length - 1] ?? -1) : -1, Markers: c.tms.markers,
    Canvases: document.querySelectorAll(".uplot canvas").length,
    Vertices: document.querySelectorAll("#graph .vertex").length,
    Graph: text("graph"), Overview: text("overview"),
    TMRows: rows("taskmanagers"), RescaleRows: rows("rescales"),
    Heartbeats: [...document.querySelectorAll("#taskmanagers tr")].map(r => r.innerText).join("\n"),
    Checkpoints: (document.querySelector("#checkpoints tr:nth-child(2) td") || {}).innerText || "",
    ExceptionRows: document.querySelectorAll("#exceptions td:not(.muted)").length ? rows("exceptions") : 0,
    Exceptions: text("exceptions"), Error: text("error"),
  };
})()`

// TestWebUIInBrowser loads the web UI of a running cluster — the CPULoad
// job reading a Kafka topic (an in-process broker) that datagen feeds, on
// two TaskManagers — in headless Chromium and checks what a user sees:
// the overview, the job graph with parallelism and busy time, TaskManagers
// with heartbeat age, checkpoints, and the four live charts filling as
// samples come (lag, throughput, CPU per TaskManager, TaskManager count);
// then it adds a TaskManager and waits for the rescale to show in the
// timeline and as a marker on the chart, and the TaskManager chart to reach
// 3; then kills one, which the exceptions show. The page must log no
// error (a CSP violation or an exception would). With -ui.screenshots it lets the charts fill longer and saves
// screenshots under docs/.
func TestWebUIInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	const topic, partitions = "cpu-load", 4

	b, err := kafkabroker.Start(kafkabroker.Config{Topics: []kafkabroker.Topic{{Name: topic, Partitions: partitions}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	// datagen feeds the topic until the test ends.
	genCtx, stopGen := context.WithCancel(context.Background())
	var gen sync.WaitGroup
	gen.Add(1)
	go func() {
		defer gen.Done()
		_, err := datagen.Run(genCtx, datagen.Config{Brokers: []string{b.Addr()}, Topic: topic, Partitions: partitions,
			Shape: datagen.ShapeConfig{Name: "cosine", Min: 500, Max: 3000, Period: 2 * time.Minute}, Progress: io.Discard})
		if err != nil && genCtx.Err() == nil {
			t.Errorf("datagen: %v", err)
		}
	}()
	t.Cleanup(func() { stopGen(); gen.Wait() })

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := tidetest.Start(t, tidetest.Config{Job: cpuload.Job(log), Name: "CPULoad", TaskManagers: 2,
		CheckpointInterval: time.Second,
		Args: []string{"--bootstrap-servers", b.Addr(), "--topic", topic, "--partitions", fmt.Sprint(partitions),
			"--iterations", "2000", "--start", "earliest"}})
	c.WaitParallelism(2, 60*time.Second)
	ts := httptest.NewServer(rest.NewServer(rest.Config{Version: "test"}, c.Backend()).Handler())
	t.Cleanup(ts.Close)

	ctx := newBrowser(t, chromium)

	// Every console message of the page, to fail on errors.
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, fmt.Sprintf("%s: %s", m.Type, m.Text))
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatalf("loading the UI: %v", err)
	}

	var st uiState
	read := func() uiState {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[uiState](uiStateJS))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		return s
	}
	waitUI := func(what string, timeout time.Duration, ok func(uiState) bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			st = read()
			if ok(st) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the UI did not show %s within %v; it shows %+v", what, timeout, st)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	nVertices := len(c.Job().Vertices)
	waitUI("the overview, the job graph and the TaskManagers", 30*time.Second, func(s uiState) bool {
		return strings.Contains(s.Overview, "TaskManagers\n2") && strings.Contains(s.Overview, "RUNNING") &&
			s.Vertices == nVertices && strings.Contains(s.Graph, "Kafka") && s.TMRows == 2 && s.Canvases >= 4
	})
	if !strings.Contains(st.Graph, "parallelism") || !strings.Contains(st.Graph, "2 / max 4") {
		t.Errorf("the job graph does not show the Kafka source's parallelism 2 of 4:\n%s", st.Graph)
	}
	waitUI("live data in all four charts: lag, throughput of every vertex, CPU of both TaskManagers, busy time", 60*time.Second, func(s uiState) bool {
		return s.TMs > 0 && s.TMsLast == 2 && s.Lag > 0 && s.Tput > 0 && s.TputSeries == nVertices && s.CPUSeries == 2 &&
			strings.Contains(s.Graph, "ms/s") && strings.Contains(s.Heartbeats, " ago")
	})
	// The charts keep filling while we watch.
	before := st
	waitUI("the charts grow", 20*time.Second, func(s uiState) bool {
		return s.TMs >= before.TMs+2 && s.Tput > before.Tput && s.CPU > before.CPU && s.Lag > before.Lag
	})
	c.WaitCheckpoints(1, 60*time.Second)
	waitUI("a completed checkpoint", 30*time.Second, func(s uiState) bool {
		return s.Checkpoints != "" && s.Checkpoints != "0"
	})

	if *uiScreenshots {
		// Let the charts show a stretch of history before the rescale.
		time.Sleep(90 * time.Second)
	}
	markers, rescales := read().Markers, len(c.Rescales())
	c.AddTaskManager()
	c.WaitParallelism(3, 60*time.Second)
	waitUI("the rescale to 3: in the timeline, as a marker on the charts, and 3 TaskManagers charted", 30*time.Second, func(s uiState) bool {
		return s.RescaleRows > rescales && s.Markers > markers && s.TMsLast == 3 && s.CPUSeries == 3 &&
			strings.Contains(s.Overview, "TaskManagers\n3")
	})

	if *uiScreenshots {
		time.Sleep(60 * time.Second)
		saveScreenshots(t, ctx)
	}

	// A TaskManager lost is a failure: the exceptions show it, and the
	// charts the TaskManager that is gone.
	if st.ExceptionRows != 0 {
		t.Errorf("exceptions before any failure:\n%s", st.Exceptions)
	}
	c.TaskManagers()[0].Kill()
	waitUI("the lost TaskManager in the exceptions and 2 TaskManagers charted", 60*time.Second, func(s uiState) bool {
		return s.ExceptionRows > 0 && s.TMsLast == 2 && s.TMRows == 2
	})

	st = read()
	if st.Error != "" {
		t.Logf("the page's last poll reported: %s", st.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range console {
		switch {
		case strings.HasPrefix(m, "exception:") || strings.Contains(m, "Content Security Policy"):
			t.Errorf("the page logged %s", m)
		case strings.HasPrefix(m, "error:"):
			t.Logf("the page logged %s", m) // a request that failed while the cluster changed
		}
	}
}
