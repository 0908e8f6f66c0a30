package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/autoscaler"
	"github.com/tide-stream/tide/internal/cgroup"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/datagen"
	"github.com/tide-stream/tide/internal/kafkabroker"
	"github.com/tide-stream/tide/internal/procs"
	"github.com/tide-stream/tide/internal/scaler"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/tmdriver"
)

// Config configures a demo.
type Config struct {
	// Exe is the tide binary the processes run.
	Exe string
	// Duration is each run's length; Speedup compresses the seed's load
	// (its 157-minute period) that many times, keeping its rates.
	Duration time.Duration
	Speedup  float64
	// Policies are run one after the other on the same load.
	Policies []string
	// Iterations is CPULoad's --iterations: the cost of a record.
	Iterations int
	// Min and Max bound the TaskManagers; CPU is each one's pod budget.
	Min, Max int
	CPU      cgroup.CPU
	// TargetCPU is the hpa policy's target, percent of the request.
	TargetCPU int
	// RESTPort is the JobManager's REST port (the web UI), 0: any.
	RESTPort int
	// Stderr receives the processes' log lines; Log the demo's own.
	Stderr io.Writer
	Log    *slog.Logger
	// Progress, when set, is told each run's elapsed share.
	Progress func(policy string, done time.Duration)
}

// sampleEvery is how often a run is recorded.
const sampleEvery = time.Second

// RunAll runs the demo once per policy and returns what each recorded.
func RunAll(ctx context.Context, cfg Config) ([]*Run, error) {
	if cfg.Exe == "" || cfg.Duration <= 0 || len(cfg.Policies) == 0 {
		return nil, errors.New("demo: a tide binary, a duration and a policy are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	var runs []*Run
	for _, p := range cfg.Policies {
		r, err := runOne(ctx, cfg, p)
		if r != nil {
			runs = append(runs, r)
		}
		if err != nil {
			return runs, fmt.Errorf("demo: policy %s: %w", p, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return runs, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runOne runs one policy: an in-memory broker, datagen with the seed's
// bursts, the CPULoad job on a JobManager process, the autoscaler with the
// local driver, and a recorder, for cfg.Duration.
func runOne(ctx context.Context, cfg Config, policy string) (*Run, error) {
	home, err := os.MkdirTemp("", "tide-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	broker, err := kafkabroker.Start(kafkabroker.Config{Topics: []kafkabroker.Topic{{Name: "topic", Partitions: 1}}})
	if err != nil {
		return nil, err
	}
	defer broker.Close()
	restPort := cfg.RESTPort
	if restPort == 0 {
		if restPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	flags := []string{"-Drest.address=127.0.0.1", "-Drest.port=" + strconv.Itoa(restPort),
		"-Djobmanager.rpc.address=127.0.0.1", "-Djobmanager.rpc.port=" + strconv.Itoa(rpcPort),
		"-Dtaskmanager.host=127.0.0.1", "-Dmetrics.reporter.prom.port=0", "-Dscheduler-mode=reactive",
		"-Dexecution.checkpointing.interval=10s", "-Dstate.checkpoints.dir=file://" + filepath.Join(home, "checkpoints")}
	// The processes inherit the environment: a TIDE_* variable may secure
	// the REST API (HTTPS, a token), so the client reads the configuration
	// they read.
	dynamic := make([]string, len(flags))
	for i, f := range flags {
		dynamic[i] = strings.TrimPrefix(f, "-D")
	}
	conf, err := config.Load(config.LoadOptions{Home: home, Environ: os.Environ(), Dynamic: dynamic})
	if err != nil {
		return nil, err
	}
	client, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		return nil, err
	}
	jmProcs := procs.New(cfg.Exe, "demo: ", io.Discard, cfg.Stderr)
	defer jmProcs.Close()
	jm, err := jmProcs.Start("jobmanager", append(append([]string{"standalone-job", "start-foreground", "-j", "CPULoad"}, flags...),
		"--", "--bootstrap-servers", broker.Addr(), "--topic", "topic", "--group-id", "demo",
		"--iterations", strconv.Itoa(cfg.Iterations), "--log-interval", "1m"), procs.WithEnv("TIDE_HOME="+home))
	if err != nil {
		return nil, err
	}
	if _, err := jm.WaitReady(); err != nil {
		return nil, err
	}
	driver, err := tmdriver.NewLocal(tmdriver.LocalConfig{Exe: cfg.Exe,
		Flags: append([]string{"-Dtaskmanager.numberOfTaskSlots=1"}, flags...), CPU: cfg.CPU, Stderr: cfg.Stderr,
		Env: []string{"TIDE_HOME=" + home}})
	if err != nil {
		return nil, err
	}
	defer driver.Close()
	if err := driver.Scale(ctx, cfg.Min); err != nil {
		return nil, err
	}
	bounds := autoscaler.Bounds{Min: cfg.Min, Max: cfg.Max}
	var pol autoscaler.Policy
	switch policy {
	case "hpa":
		pol, err = autoscaler.NewHPA(autoscaler.HPAConfig{Bounds: bounds, TargetUtilization: cfg.TargetCPU, NoBehavior: true})
	case "tide":
		pol, err = autoscaler.NewTide(autoscaler.TideConfig{Bounds: bounds})
	default:
		err = fmt.Errorf("unknown policy %q", policy)
	}
	if err != nil {
		return nil, err
	}
	col, err := scaler.NewCollector(scheme+"://127.0.0.1:"+strconv.Itoa(restPort), client)
	if err != nil {
		return nil, err
	}
	rctx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	request := float64(cfg.CPU.RequestMilli) / 1000
	var wg sync.WaitGroup
	var genErr, scaleErr error
	wg.Add(2)
	go func() { // owner: runOne, which waits
		defer wg.Done()
		_, genErr = datagen.Run(rctx, datagen.Config{Brokers: []string{broker.Addr()}, Topic: "topic",
			Shape: datagen.ShapeConfig{Name: "bursts", Speedup: cfg.Speedup}})
	}()
	go func() { // owner: runOne, which waits
		defer wg.Done()
		scaleErr = scaler.Run(rctx, scaler.Config{Collector: col, Policy: pol, Driver: driver, Current: cfg.Min,
			Request: request, Log: cfg.Log})
	}()
	r := record(rctx, col, policy, request, cfg.Progress)
	wg.Wait()
	if rs, err := col.Rescales(context.Background(), r.jobID); err == nil {
		for _, x := range rs {
			r.Rescales = append(r.Rescales, Rescale{At: time.UnixMilli(x.Start), Trigger: string(x.Trigger),
				From: x.From, To: x.To, Pause: time.Duration(x.PauseMs) * time.Millisecond})
		}
	}
	if genErr != nil && !errors.Is(genErr, context.DeadlineExceeded) && !errors.Is(genErr, context.Canceled) {
		return &r.Run, fmt.Errorf("datagen: %w", genErr)
	}
	return &r.Run, scaleErr
}

// recording is a Run being recorded.
type recording struct {
	Run
	jobID string
}

// record samples the JobManager every second until ctx ends.
func record(ctx context.Context, col *scaler.Collector, policy string, request float64, progress func(string, time.Duration)) *recording {
	r := &recording{Run: Run{Policy: policy, Start: time.Now(), CPU: map[string][]Point{}}}
	var prev *scaler.Sample
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.End = time.Now()
			return r
		case <-t.C:
		}
		s, err := col.Sample(ctx)
		if err != nil {
			continue
		}
		r.jobID = s.JobID
		if prev != nil {
			in := scaler.Input(*prev, s, 0, request)
			tms := 0
			for _, tm := range in.TaskManagers {
				if tm.Phase == autoscaler.Running {
					tms++
				}
				if tm.HasCPU {
					r.CPU[tm.ID] = append(r.CPU[tm.ID], Point{s.At, tm.CPU})
				}
			}
			r.TaskManagers = append(r.TaskManagers, Point{s.At, float64(tms)})
			if in.Job != nil {
				r.Lag = append(r.Lag, Point{s.At, in.Job.Lag})
				r.Input = append(r.Input, Point{s.At, in.Job.InputRate})
				r.Throughput = append(r.Throughput, Point{s.At, in.Job.ConsumedRate})
			}
		}
		prev = &s
		if progress != nil {
			progress(policy, time.Since(r.Start))
		}
	}
}
