package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	k8sclient "k8s.io/client-go/kubernetes"

	"github.com/tide-stream/tide/internal/autoscaler"
	"github.com/tide-stream/tide/internal/cgroup"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/scaler"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/tmdriver"
	k8sdriver "github.com/tide-stream/tide/internal/tmdriver/kubernetes"
)

// autoscalerOptions are `tide autoscaler`'s flags.
type autoscalerOptions struct {
	policy, driver     string
	min, max           int
	dryRun             bool
	rest               string
	cpuRequest, cpuLim string
	targetCPU          int
	syncPeriod         time.Duration
	hpaBehavior        bool
	drainTime          time.Duration
	namespace, deploy  string
	kubeconfig         string
	port               int
	host               string
	// hpa's tolerance, stabilization windows and rate limits.
	tolerance                      float64
	downWindow, upWindow           time.Duration
	upPods, upPercent, downPercent int
}

func (a *App) autoscalerCmd() *cobra.Command {
	var o autoscalerOptions
	var c common
	cmd := &cobra.Command{
		Use:   "autoscaler --policy hpa|tide --driver local|kubernetes --min N --max N [flags]",
		Short: "Scale a running job's TaskManagers from its metrics",
		Long: "Reads the job's metrics from the JobManager's REST API every sync period (--rest, default " +
			"http://<rest.address>:<rest.port>, https:// with security.ssl.rest.enabled), decides a TaskManager count with a policy and applies it through a driver.\n" +
			"Policies: hpa is the Kubernetes HorizontalPodAutoscaler's algorithm on TaskManager CPU against the request " +
			"(--target-cpu percent; by default exactly what `kubectl autoscale` creates, --hpa-behavior for the v2 default " +
			"behavior); tide computes, from the input rate, the consumer lag, busy time and the cost of a rescale, the count " +
			"that keeps up and drains the lag within --drain-time, in one step.\n" +
			"Drivers: local starts TaskManager processes with the -D flags given here, each in a cgroup with --cpu-request " +
			"and --cpu-limit like a pod's (without cgroup access: no limits, and it says so), and stops them gracefully; " +
			"kubernetes sets the replicas of --deployment in --namespace (default $POD_NAMESPACE) through its scale subresource.\n" +
			"Every decision is logged with its inputs and reason; --dry-run only logs. A decision never goes below --min (at least 1).",
		Example: "  tide autoscaler --policy tide --driver local --min 1 --max 8 -Djobmanager.rpc.address=127.0.0.1\n" +
			"  tide autoscaler --policy hpa --target-cpu 35 --driver kubernetes --min 1 --max 15 --deployment tide-taskmanager",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.runAutoscaler(ctx, &c, o)
		},
	}
	c.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "tide", "policy: hpa or tide")
	f.StringVar(&o.driver, "driver", "local", "driver: local or kubernetes")
	f.IntVar(&o.min, "min", 1, "fewest TaskManagers (at least 1)")
	f.IntVar(&o.max, "max", 8, "most TaskManagers")
	f.BoolVar(&o.dryRun, "dry-run", false, "decide and log, apply nothing")
	f.StringVar(&o.rest, "rest", "", "the JobManager's REST API, http://host:port or https://host:port (default from rest.address and rest.port); "+
		"the client trusts security.ssl.rest.ca-file, presents security.ssl.rest.client-cert-file and sends rest.auth.token-file's token, as given with -D")
	f.StringVar(&o.cpuRequest, "cpu-request", "250m", "each TaskManager's CPU request (the HPA's 100%), e.g. 250m or 0.25")
	f.StringVar(&o.cpuLim, "cpu-limit", "500m", "each local TaskManager's CPU limit, e.g. 500m (0: none)")
	f.IntVar(&o.targetCPU, "target-cpu", 35, "hpa: target CPU utilization, percent of the request")
	f.DurationVar(&o.syncPeriod, "sync-period", 0, "how often to decide (0: the policy's, 15s)")
	f.Float64Var(&o.tolerance, "tolerance", 0.1, "hpa: no change while the usage ratio is within 1±tolerance (the controller's --horizontal-pod-autoscaler-tolerance)")
	f.DurationVar(&o.downWindow, "downscale-stabilization", 5*time.Minute, "hpa: scale down to the highest recommendation of this window")
	f.DurationVar(&o.upWindow, "upscale-stabilization", 0, "hpa, with --hpa-behavior: scale up to the lowest recommendation of this window")
	f.IntVar(&o.upPods, "scale-up-pods", 4, "hpa, with --hpa-behavior: add at most this many TaskManagers per 15 s (or --scale-up-percent, whichever is more)")
	f.IntVar(&o.upPercent, "scale-up-percent", 100, "hpa, with --hpa-behavior: add at most this percent per 15 s (or --scale-up-pods, whichever is more)")
	f.IntVar(&o.downPercent, "scale-down-percent", 100, "hpa, with --hpa-behavior: remove at most this percent per 15 s")
	f.BoolVar(&o.hpaBehavior, "hpa-behavior", false, "hpa: use the autoscaling/v2 default behavior instead of kubectl autoscale's")
	f.DurationVar(&o.drainTime, "drain-time", 0, "tide: drain the consumer lag within this long (0: the policy's, 60s)")
	f.StringVar(&o.namespace, "namespace", "", "kubernetes: the Deployment's namespace (default $POD_NAMESPACE, else default)")
	f.StringVar(&o.deploy, "deployment", "tide-taskmanager", "kubernetes: the TaskManager Deployment")
	f.IntVar(&o.port, "port", 9261, "port of the autoscaler's /metrics and /decisions (its recent decisions as JSON); 0: any free port, -1: none")
	f.StringVar(&o.host, "host", "127.0.0.1", "address of --port (0.0.0.0 in a pod that Prometheus scrapes)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubernetes: a kubeconfig (default in-cluster, else $KUBECONFIG or ~/.kube/config)")
	return cmd
}

// parseCores parses a Kubernetes CPU quantity: "250m" or "0.25".
func parseCores(s string) (float64, error) {
	if m, ok := strings.CutSuffix(s, "m"); ok {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("CPU quantity %q: want millicores like 250m or cores like 0.25", s)
		}
		return float64(n) / 1000, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("CPU quantity %q: want millicores like 250m or cores like 0.25", s)
	}
	return f, nil
}

func (a *App) runAutoscaler(ctx context.Context, c *common, o autoscalerOptions) error {
	conf, err := c.load()
	if err != nil {
		return err
	}
	log, err := c.logger(a.Stderr)
	if err != nil {
		return err
	}
	log = log.With("component", "autoscaler")
	request, err := parseCores(o.cpuRequest)
	if err != nil {
		return fmt.Errorf("--cpu-request: %w", err)
	}
	limit, err := parseCores(o.cpuLim)
	if err != nil {
		return fmt.Errorf("--cpu-limit: %w", err)
	}
	bounds := autoscaler.Bounds{Min: o.min, Max: o.max}
	var pol autoscaler.Policy
	switch o.policy {
	case "hpa":
		// HPAConfig reads zero as "the default" and a negative value as
		// "none": a flag set to 0 means none.
		orNone := func(d time.Duration) time.Duration {
			if d == 0 {
				return -1
			}
			return d
		}
		tol := o.tolerance
		if tol == 0 {
			tol = -1
		}
		period := 15 * time.Second
		pol, err = autoscaler.NewHPA(autoscaler.HPAConfig{Bounds: bounds, TargetUtilization: o.targetCPU,
			ScaleUpTolerance: tol, ScaleDownTolerance: tol, SyncPeriod: o.syncPeriod, NoBehavior: !o.hpaBehavior,
			ScaleUp: autoscaler.Rules{StabilizationWindow: orNone(o.upWindow), Policies: []autoscaler.ScalingPolicy{
				{Type: autoscaler.Pods, Value: o.upPods, Period: period}, {Type: autoscaler.Percent, Value: o.upPercent, Period: period}}},
			ScaleDown: autoscaler.Rules{StabilizationWindow: orNone(o.downWindow), Policies: []autoscaler.ScalingPolicy{
				{Type: autoscaler.Percent, Value: o.downPercent, Period: period}}}})
	case "tide":
		pol, err = autoscaler.NewTide(autoscaler.TideConfig{Bounds: bounds, SyncPeriod: o.syncPeriod, DrainTime: o.drainTime})
	default:
		err = fmt.Errorf("--policy %q: want hpa or tide", o.policy)
	}
	if err != nil {
		return err
	}
	// The JobManager's REST API as the configuration secures it: its CA,
	// a client certificate, the bearer token. An explicit --rest gives the
	// scheme; by default the configuration does.
	client, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		return err
	}
	restURL := o.rest
	if restURL == "" {
		restURL = scheme + "://" + net.JoinHostPort(conf.RESTAddress, strconv.Itoa(conf.RESTPort))
	}
	col, err := scaler.NewCollector(restURL, client)
	if err != nil {
		return err
	}
	var drv scaler.Driver
	current := o.min
	switch o.driver {
	case "local":
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the tide executable: %w", err)
		}
		local, err := tmdriver.NewLocal(tmdriver.LocalConfig{Exe: exe,
			Flags:  append([]string{"-Dtaskmanager.numberOfTaskSlots=1"}, c.forwardedFlags()...),
			CPU:    cgroup.CPU{RequestMilli: int(request * 1000), LimitMilli: int(limit * 1000)},
			Stdout: a.Stdout, Stderr: a.Stderr})
		if err != nil {
			return err
		}
		defer func() {
			if err := local.Close(); err != nil {
				log.Warn("cleaning up the TaskManagers' cgroups", "err", err)
			}
		}()
		if err := local.Scale(ctx, current); err != nil {
			return fmt.Errorf("starting %d TaskManager(s): %w", current, err)
		}
		log.Info("local TaskManagers up", "count", current, "cpu_limited", local.Limited(), "request", o.cpuRequest, "limit", o.cpuLim)
		drv = local
	case "kubernetes":
		ns := o.namespace
		if ns == "" {
			ns = os.Getenv("POD_NAMESPACE")
		}
		if ns == "" {
			ns = "default"
		}
		rc, err := k8sdriver.Config(o.kubeconfig)
		if err != nil {
			return err
		}
		cs, err := k8sclient.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("kubernetes driver: %w", err)
		}
		kd, err := k8sdriver.New(cs, ns, o.deploy)
		if err != nil {
			return err
		}
		desired, _, err := kd.Count(ctx)
		if err != nil {
			return err
		}
		current = desired
		drv = kd
	default:
		return fmt.Errorf("--driver %q: want local or kubernetes", o.driver)
	}
	decisions := scaler.NewDecisions(pol.Name(), current)
	if o.port >= 0 {
		// The port is secured as a metrics port of the cluster is: HTTPS with
		// the REST certificate, the REST token unless
		// metrics.reporter.prom.allow-unauthenticated, and never open off
		// loopback without authentication.
		sec, err := security.RESTFromConfig(conf, log)
		if err != nil {
			return err
		}
		port := security.Port{Key: "--host (of tide autoscaler's --port)", Host: o.host,
			Authenticated: sec.Authenticated() || conf.MetricsOpen, Fix: security.MetricsFix}
		if err := security.CheckBind(conf, port); err != nil {
			return err
		}
		reg := metrics.NewRegistry()
		defer decisions.Register(reg)()
		ln, err := metrics.Listen(o.host, o.port, o.port)
		if err != nil {
			return fmt.Errorf("--port: %w", err)
		}
		opts := metricsOptions(conf, sec)
		opts.Routes = []metrics.Route{{Pattern: "GET /decisions", Handler: decisions}}
		srv := metrics.Serve(reg, ln, log, opts)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Close(sctx)
		}()
		log.Info("serving /metrics and /decisions", "addr", srv.Addr())
	}
	log.Info("autoscaler started", "policy", pol.Name(), "driver", o.driver, "min", o.min, "max", o.max,
		"rest", restURL, "sync_period", pol.SyncPeriod(), "dry_run", o.dryRun)
	return scaler.Run(ctx, scaler.Config{Collector: col, Policy: pol, Driver: drv, Current: current,
		Request: request, DryRun: o.dryRun, Log: log, Decisions: decisions})
}
