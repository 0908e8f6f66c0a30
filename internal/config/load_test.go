package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// newHome returns a fresh TIDE_HOME whose conf/config.yaml holds yaml, or
// which has no configuration file when yaml is "".
func newHome(t *testing.T, yaml string) string {
	t.Helper()
	home := t.TempDir()
	if yaml != "" {
		if err := os.MkdirAll(filepath.Join(home, "conf"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ConfigFile(home), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

func mustLoad(t *testing.T, opts LoadOptions) *Config {
	t.Helper()
	c, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// TestDefaults pins every default of the key table in docs/configuration.md,
// Flink's keys and Tide's own.
func TestDefaults(t *testing.T) {
	home := newHome(t, "")
	got := mustLoad(t, LoadOptions{Home: home})
	want := &Config{
		Home:                              home,
		SchedulerMode:                     SchedulerReactive,
		ParallelismDefault:                1,
		MaxParallelism:                    128,
		NumberOfTaskSlots:                 1,
		CheckpointInterval:                0,
		CheckpointTimeout:                 10 * time.Minute,
		CheckpointsDir:                    "file://" + home + "/checkpoints",
		CheckpointsNumRetained:            3,
		HeartbeatInterval:                 10 * time.Second,
		HeartbeatTimeout:                  50 * time.Second,
		ResourceStabilizationTimeout:      time.Second,
		ResourceWaitTimeout:               WaitForever,
		ScalingIntervalMin:                0,
		RescaleOnCheckpoint:               true,
		DecommissionTimeout:               30 * time.Second,
		RestartStrategy:                   RestartFixedDelay,
		FixedDelayAttempts:                UnlimitedAttempts,
		FixedDelayDelay:                   time.Second,
		ExponentialDelayInitialBackoff:    time.Second,
		ExponentialDelayMaxBackoff:        time.Minute,
		ExponentialDelayBackoffMultiplier: 2,
		FailureRateMaxFailures:            1,
		FailureRateInterval:               time.Minute,
		FailureRateDelay:                  time.Second,
		JobManagerRPCAddress:              "localhost",
		JobManagerRPCPort:                 6123,
		RESTAddress:                       "localhost",
		RESTPort:                          8081,
		PromPort:                          "",
		TaskManagerHost:                   "localhost",
		TaskManagerDataPort:               0,
		LocalRecovery:                     true,
		TaskManagerResourceID:             "",
		NetworkBufferSize:                 32 << 10,
		NetworkCreditsPerChannel:          4,
		BufferTimeout:                     100 * time.Millisecond,
		AutoWatermarkInterval:             200 * time.Millisecond,
		SavepointPath:                     "",
		IgnoreUnclaimedState:              false,
		Recovery:                          RecoveryLatestCheckpoint,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	for _, k := range got.Keys() {
		if s := got.Source(k); s.Kind != SourceDefault {
			t.Errorf("Source(%s) = %v, want default", k, s)
		}
	}
	for _, tc := range []struct {
		tm     bool
		lo, hi int
	}{{false, 9249, 9249}, {true, 9250, 9260}} {
		lo, hi, err := got.PromPortRange(tc.tm)
		if err != nil || lo != tc.lo || hi != tc.hi {
			t.Errorf("PromPortRange(%v) = %d, %d, %v; want %d, %d", tc.tm, lo, hi, err, tc.lo, tc.hi)
		}
	}
}

func TestModeDependentDefaults(t *testing.T) {
	c := mustLoad(t, LoadOptions{Home: t.TempDir(), Dynamic: []string{"scheduler-mode=default"}})
	if c.ResourceWaitTimeout != 5*time.Minute {
		t.Errorf("default mode: resource-wait-timeout = %v, want 5min", c.ResourceWaitTimeout)
	}
	if c.FixedDelayAttempts != UnlimitedAttempts {
		t.Errorf("default mode: attempts = %d, want unlimited", c.FixedDelayAttempts)
	}
	// An explicit value wins over the mode's default.
	c = mustLoad(t, LoadOptions{Home: t.TempDir(), Dynamic: []string{
		"jobmanager.adaptive-scheduler.resource-wait-timeout=30s", "scheduler-mode=reactive"}})
	if c.ResourceWaitTimeout != 30*time.Second {
		t.Errorf("resource-wait-timeout = %v, want 30s", c.ResourceWaitTimeout)
	}
}

func TestHome(t *testing.T) {
	dir := t.TempDir()
	c := mustLoad(t, LoadOptions{Environ: []string{"TIDE_HOME=" + dir}})
	if c.Home != dir {
		t.Errorf("Home from TIDE_HOME = %q, want %q", c.Home, dir)
	}
	c = mustLoad(t, LoadOptions{Home: dir, Environ: []string{"TIDE_HOME=/elsewhere"}})
	if c.Home != dir {
		t.Errorf("Home from options = %q, want %q", c.Home, dir)
	}
	t.Chdir(dir)
	c = mustLoad(t, LoadOptions{})
	if want := filepath.Join(dir, "tide-home"); c.Home != want {
		t.Errorf("default Home = %q, want %q", c.Home, want)
	}
	if want := "file://" + dir + "/tide-home/checkpoints"; c.CheckpointsDir != want {
		t.Errorf("default checkpoints dir = %q, want %q", c.CheckpointsDir, want)
	}
	c = mustLoad(t, LoadOptions{Dynamic: []string{"state.checkpoints.dir=ckpt", "execution.savepoint.path=file://sp/chk-3"}})
	if want := "file://" + dir + "/ckpt"; c.CheckpointsDir != want {
		t.Errorf("relative checkpoints dir = %q, want %q", c.CheckpointsDir, want)
	}
	if want := "file://" + dir + "/sp/chk-3"; c.SavepointPath != want {
		t.Errorf("relative savepoint path = %q, want %q", c.SavepointPath, want)
	}
}

func TestPrecedence(t *testing.T) {
	home := newHome(t, "heartbeat.timeout: 60s\nheartbeat.interval: 5s\nrest.port: 9000\nparallelism.default: 2\n")
	path := ConfigFile(home)
	env := []string{"TIDE_HEARTBEAT_TIMEOUT=70s", "TIDE_REST_PORT=9001", "TIDE_UNKNOWN_THING=x", "PATH=/bin"}
	dyn := []string{"heartbeat.timeout=80s", "heartbeat.timeout=90s"}
	c := mustLoad(t, LoadOptions{Home: home, Environ: env, Dynamic: dyn})
	for _, tc := range []struct {
		key, value string
		src        Source
	}{
		{"heartbeat.timeout", "90s", Source{Kind: SourceDynamic}},
		{"rest.port", "9001", Source{Kind: SourceEnv, Env: "TIDE_REST_PORT"}},
		{"heartbeat.interval", "5s", Source{Kind: SourceFile, File: path, Line: 2}},
		{"parallelism.default", "2", Source{Kind: SourceFile, File: path, Line: 4}},
		{"rest.address", "localhost", Source{Kind: SourceDefault}},
	} {
		if got := c.Get(tc.key); got != tc.value {
			t.Errorf("Get(%s) = %q, want %q", tc.key, got, tc.value)
		}
		if got := c.Source(tc.key); got != tc.src {
			t.Errorf("Source(%s) = %v, want %v", tc.key, got, tc.src)
		}
	}
	if c.HeartbeatTimeout != 90*time.Second || c.RESTPort != 9001 {
		t.Errorf("typed fields: timeout %v, rest port %d", c.HeartbeatTimeout, c.RESTPort)
	}
}

func TestFlatAndNestedYAML(t *testing.T) {
	flat := `
heartbeat.timeout: 5s
heartbeat.interval: 1s
taskmanager.numberOfTaskSlots: 4
jobmanager.adaptive-scheduler.rescale-on-checkpoint: false
restart-strategy: exponential-delay
restart-strategy.exponential-delay.backoff-multiplier: 1.5
taskmanager.network.buffer-size: 64 kb
execution.checkpointing.interval: 10s
metrics.reporter.prom.port: 9300-9310
`
	nested := `
heartbeat:
  timeout: 5s
  interval: 1s
taskmanager:
  numberOfTaskSlots: 4
  network: {buffer-size: 64 kb}
jobmanager:
  adaptive-scheduler:
    rescale-on-checkpoint: false
restart-strategy:
  type: exponentialdelay
  exponential-delay:
    backoff-multiplier: 1.5
execution.checkpointing:
  interval: 10s
metrics: {reporter: {prom: {port: 9300-9310}}}
`
	a := mustLoad(t, LoadOptions{Home: newHome(t, flat)})
	b := mustLoad(t, LoadOptions{Home: newHome(t, nested)})
	for _, k := range a.Keys() {
		if k == "state.checkpoints.dir" {
			continue // depends on the home
		}
		if a.Get(k) != b.Get(k) {
			t.Errorf("%s: flat %q, nested %q", k, a.Get(k), b.Get(k))
		}
	}
	if a.HeartbeatTimeout != 5*time.Second || a.NumberOfTaskSlots != 4 || a.RescaleOnCheckpoint ||
		a.RestartStrategy != RestartExponentialDelay || a.ExponentialDelayBackoffMultiplier != 1.5 ||
		a.NetworkBufferSize != 64<<10 || a.CheckpointInterval != 10*time.Second || a.PromPort != "9300-9310" {
		t.Errorf("flat config not applied: %+v", a)
	}
	if lo, hi, _ := a.PromPortRange(false); lo != 9300 || hi != 9310 {
		t.Errorf("PromPortRange = %d, %d", lo, hi)
	}
}

func TestYAMLScalarsAndEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		check      func(c *Config) bool
	}{
		{"int", "rest.port: 8082", func(c *Config) bool { return c.RESTPort == 8082 }},
		{"quoted int", `rest.port: "8083"`, func(c *Config) bool { return c.RESTPort == 8083 }},
		{"bool", "jobmanager.adaptive-scheduler.rescale-on-checkpoint: FALSE", func(c *Config) bool { return !c.RescaleOnCheckpoint }},
		{"float", "restart-strategy.exponential-delay.backoff-multiplier: 3", func(c *Config) bool { return c.ExponentialDelayBackoffMultiplier == 3 }},
		{"null string", "execution.savepoint.path:", func(c *Config) bool { return c.SavepointPath == "" }},
		{"empty file", "# only a comment\n", func(c *Config) bool { return c.RESTPort == 8081 }},
		{"anchors", "x: &p 7000\nrest: {port: *p}\n", nil},
		{"alias value", "rest: {port: &p 7001}\njobmanager: {rpc: {port: *p}}\n", func(c *Config) bool { return c.RESTPort == 7001 && c.JobManagerRPCPort == 7001 }},
		{"alias mapping", "rest: &r {port: 7002}\ntaskmanager: {data: *r}\n", func(c *Config) bool { return c.RESTPort == 7002 && c.TaskManagerDataPort == 7002 }},
		{"unlimited", "restart-strategy.fixed-delay.attempts: unlimited", func(c *Config) bool { return c.FixedDelayAttempts == -1 }},
		{"off", "restart-strategy: off", func(c *Config) bool { return c.RestartStrategy == RestartNone }},
		{"wait forever", "jobmanager.adaptive-scheduler.resource-wait-timeout: -5s", func(c *Config) bool { return c.ResourceWaitTimeout == WaitForever }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(LoadOptions{Home: newHome(t, tc.yaml)})
			if tc.check == nil {
				if err == nil {
					t.Fatal("want an error for the unknown key x")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("value not applied: %+v", c)
			}
		})
	}
}

// TestGetRoundTrips sets every key to the text Get returns and expects the
// same Config back, so Get's output is always valid input.
func TestGetRoundTrips(t *testing.T) {
	home := t.TempDir()
	c := mustLoad(t, LoadOptions{Home: home, Dynamic: []string{
		"execution.checkpointing.interval=90s", "taskmanager.network.buffer-size=48kb", "scheduler-mode=default",
		"execution.savepoint.path=/tmp/sp", "metrics.reporter.prom.port=9999",
	}})
	var dyn []string
	for _, k := range c.Keys() {
		dyn = append(dyn, k+"="+c.Get(k))
	}
	d := mustLoad(t, LoadOptions{Home: home, Dynamic: dyn})
	if diff := cmp.Diff(c, d, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("round trip through Get (-want +got):\n%s", diff)
	}
	if c.Get("no.such.key") != "" {
		t.Error("Get of an unknown key is not empty")
	}
	if c.Get("restart-strategy.type") != "fixed-delay" {
		t.Errorf("Get by alias = %q", c.Get("restart-strategy.type"))
	}
}

func TestKeyTable(t *testing.T) {
	keys := Keys()
	if !slices.IsSortedFunc(keys, func(a, b KeyInfo) int { return strings.Compare(a.Key, b.Key) }) {
		t.Error("Keys() is not sorted")
	}
	envs := map[string]string{}
	for _, k := range keys {
		if k.Description == "" {
			t.Errorf("%s has no description", k.Key)
		}
		for _, n := range append([]string{k.Key}, k.Aliases...) {
			e := envName(n)
			if prev, dup := envs[e]; dup {
				t.Errorf("%s and %s share the environment variable %s", prev, n, e)
			}
			envs[e] = n
		}
	}
	if envs[HomeEnv] != "" {
		t.Errorf("a key maps to %s", HomeEnv)
	}
	var c Config
	for _, k := range []string{"heartbeat.timeout", "state.checkpoints.dir", "taskmanager.numberOfTaskSlots"} {
		o, _ := lookup(k)
		if want := map[string]string{"heartbeat.timeout": "TIDE_HEARTBEAT_TIMEOUT", "state.checkpoints.dir": "TIDE_STATE_CHECKPOINTS_DIR",
			"taskmanager.numberOfTaskSlots": "TIDE_TASKMANAGER_NUMBEROFTASKSLOTS"}[k]; envName(o.Key) != want {
			t.Errorf("env of %s = %s, want %s", k, envName(o.Key), want)
		}
	}
	if got := len(c.Keys()); got != len(keys) {
		t.Errorf("Config.Keys has %d keys, Keys %d", got, len(keys))
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := Load(LoadOptions{Home: t.TempDir(), Dynamic: []string{"heartbeat.timout=5s"}})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnknownKey) || e.Key != "heartbeat.timout" || e.Source.Kind != SourceDynamic {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), `did you mean "heartbeat.timeout"`) {
		t.Errorf("no suggestion in %q", err)
	}
}

func TestPathKeysAreAbsolute(t *testing.T) {
	c, err := Load(LoadOptions{Home: t.TempDir(), Dynamic: []string{"rest.auth.token-file=secrets/rest.token"}})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "secrets", "rest.token"); c.RESTTokenFile != want {
		t.Errorf("RESTTokenFile = %q, want %q", c.RESTTokenFile, want)
	}
	if c.InternalTokenFile != "" {
		t.Errorf("InternalTokenFile = %q, want empty by default", c.InternalTokenFile)
	}
}
