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
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/datagen"
	"github.com/tide-stream/tide/internal/kafkabroker"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/security/securitytest"
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

// newBrowser starts headless Chromium, with extra options, and answers a
// tab's context.
func newBrowser(t *testing.T, chromium string, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))
	opts = append(opts, extra...)
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

// authState is what TestWebUIAsksForTheToken reads from the page.
type authState struct {
	Asking            bool // the token form is shown
	Message, Overview string
	Jobs, Error       string
	Updated           string // the time of the last poll
	Stored            string // the token in sessionStorage
	Focused           bool   // the token field has the focus
}

const authStateJS = `(() => {
  const text = id => document.getElementById(id).innerText;
  return {
    Asking: !document.getElementById("auth").hidden, Message: text("auth-message"),
    Overview: text("overview"), Jobs: text("jobs"), Error: text("error"), Updated: text("updated"),
    Stored: sessionStorage.getItem("tide.rest.token") || "",
    Focused: document.activeElement === document.getElementById("auth-token"),
  };
})()`

// TestWebUIAsksForTheToken loads the web UI of a REST server that demands
// a bearer token, over HTTPS, in headless Chromium: the page loads, its
// first API calls are refused, and it shows the token form; a wrong token
// is refused with a message and the form stays; the right one renders the
// overview and the jobs, and is kept for the tab: a reload asks nothing.
func TestWebUIAsksForTheToken(t *testing.T) {
	chromium := chromiumPath(t)
	f := securitytest.REST(t, t.TempDir())
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: f.Dynamic(false)})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := security.RESTFromConfig(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := rest.NewServer(rest.Config{Addr: "127.0.0.1:0", Version: "test", TLS: sec.ServerTLS(), Auth: sec}, rest.PopulatedBackend())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	// The test CA is not the browser's: it accepts the certificate as is.
	ctx := newBrowser(t, chromium, chromedp.Flag("ignore-certificate-errors", true))

	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(ctx)
	go func() { // owner: the tab's context, whose end ends the messages
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, fmt.Sprintf("%s: %s", m.Type, m.Text))
			mu.Unlock()
		}
	}()
	url := "https://" + srv.Addr() + "/"
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading the UI: %v", err)
	}
	var st authState
	waitUI := func(what string, ok func(authState) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s, err := chromedp.Run(ctx, chromedp.Evaluate[authState](authStateJS))
			if err != nil {
				t.Fatalf("reading the page: %v", err)
			}
			st = s
			if ok(st) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the UI did not show %s; it shows %+v", what, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	enter := func(token string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#auth-token"), token), chromedp.Click(chromedp.CSS("#auth button"))); err != nil {
			t.Fatalf("entering the token: %v", err)
		}
	}

	waitUI("the token form", func(s authState) bool { return s.Asking && s.Focused })
	if st.Message != "" || st.Overview != "" || st.Error != "" {
		t.Errorf("before any token the page shows a message %q, data %q or an error %q", st.Message, st.Overview, st.Error)
	}
	// The form stays while nothing happens: no poll goes on behind it.
	time.Sleep(1500 * time.Millisecond)
	waitUI("the form still", func(s authState) bool { return s.Asking && s.Overview == "" })

	enter("not-the-token-" + strings.Repeat("x", 10))
	waitUI("the wrong token refused", func(s authState) bool { return s.Asking && strings.Contains(s.Message, "refused") })
	if st.Overview != "" || st.Stored != "" {
		t.Errorf("after a wrong token the page shows %q and keeps %q", st.Overview, st.Stored)
	}

	enter(f.Token)
	waitUI("the overview and the job", func(s authState) bool {
		return !s.Asking && strings.Contains(s.Overview, "TaskManagers\n2") && strings.Contains(s.Jobs, "Verify")
	})
	// (The fake backend's vertex and TaskManager have no metrics: the page
	// says so in its error line, which is not about the token.)
	if st.Stored != f.Token || strings.Contains(st.Error, "token") || st.Message != "" {
		t.Errorf("after the token: stored %q, error %q, message %q", st.Stored, st.Error, st.Message)
	}
	// It keeps polling with the token, asking nothing.
	updated := st.Updated
	waitUI("more polls", func(s authState) bool { return s.Updated != updated })
	if st.Asking || strings.Contains(st.Error, "token") {
		t.Errorf("a later poll: asking %v, error %q", st.Asking, st.Error)
	}

	// A reload keeps the tab's token: no form.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitUI("the overview after a reload", func(s authState) bool {
		return strings.Contains(s.Overview, "TaskManagers\n2")
	})
	if st.Asking {
		t.Error("the page asked for the token again after a reload")
	}

	mu.Lock()
	defer mu.Unlock()
	for _, m := range console {
		if strings.HasPrefix(m, "exception:") || strings.Contains(m, "Content Security Policy") {
			t.Errorf("the page logged %s", m)
		}
	}
}
