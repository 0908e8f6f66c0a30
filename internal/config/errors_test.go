package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryErrorCase loads one configuration with a problem per case, from
// every source, and expects each problem reported, naming the key, its value
// and its source.
func TestEveryErrorCase(t *testing.T) {
	home := newHome(t, `heartbeat.timeout: abc
heartbeat:
  timout: 5s
rest.port: 70000
taskmanager.numberOfTaskSlots: 0
pipeline.max-parallelism: 40000
parallelism.default: 0
scheduler-mode: batch
restart-strategy: failure-fast
taskmanager.network.buffer-size: 12 parsecs
jobmanager.adaptive-scheduler.rescale-on-checkpoint: yes
state.checkpoints.num-retained: [1, 2]
rest.address: ""
restart-strategy.fixed-delay.attempts: -2
restart-strategy.exponential-delay.backoff-multiplier: 0.5
execution.checkpointing.interval: -10s
metrics.reporter.prom.port: 9260-9250
state.checkpoints.dir: s3://bad host/x
taskmanager.numberOfTaskSlots: 2
restart-strategy.type: none
`)
	path := ConfigFile(home)
	at := func(line string) string { return path + ":" + line }
	_, err := Load(LoadOptions{
		Home:    home,
		Environ: []string{"TIDE_JOBMANAGER_RPC_PORT=http", "TIDE_HEARTBEAT_INTERVAL=-1s"},
		Dynamic: []string{"no-equals-sign", "=5s", "pipline.max-parallelism=4", "taskmanager.data.port=-1",
			"execution.buffer-timeout.interval=soon"},
	})
	if err != nil {
		t.Logf("the report:\n%v", err)
	}
	if err == nil {
		t.Fatal("Load succeeded")
	}
	msg := err.Error()
	for _, want := range []string{
		`heartbeat.timeout: bad value "abc" from ` + at("1") + `: parse duration "abc"`,
		`unknown key "heartbeat.timout" (value "5s") from ` + at("3") + `; did you mean "heartbeat.timeout"?`,
		`rest.port: bad value "70000" from ` + at("4") + `: must be between 0 and 65535`,
		`taskmanager.numberOfTaskSlots: bad value "0" from ` + at("5") + `: must be between 1 and 65536`,
		`pipeline.max-parallelism: bad value "40000" from ` + at("6") + `: must be between 1 and 32768`,
		`parallelism.default: bad value "0" from ` + at("7") + `: must be at least 1`,
		`scheduler-mode: bad value "batch" from ` + at("8") + `: want one of default, reactive`,
		`restart-strategy: bad value "failure-fast" from ` + at("9") + `: want one of`,
		`taskmanager.network.buffer-size: bad value "12 parsecs" from ` + at("10") + `: parse memory size`,
		`jobmanager.adaptive-scheduler.rescale-on-checkpoint: bad value "yes" from ` + at("11") + `: parse boolean`,
		`state.checkpoints.num-retained: bad value "<list>" from ` + at("12"),
		`rest.address: bad value "" from ` + at("13") + `: must not be empty`,
		`restart-strategy.fixed-delay.attempts: bad value "-2" from ` + at("14") + `: must be at least -1`,
		`restart-strategy.exponential-delay.backoff-multiplier: bad value "0.5" from ` + at("15") + `: must be at least 1`,
		`execution.checkpointing.interval: bad value "-10s" from ` + at("16") + `: must not be negative`,
		`metrics.reporter.prom.port: bad value "9260-9250" from ` + at("17") + `: parse port range`,
		`state.checkpoints.dir: bad value "s3://bad host/x" from ` + at("18") + `: bad storage URL`,
		`taskmanager.numberOfTaskSlots: bad value "2" from ` + at("19") + `: taskmanager.numberOfTaskSlots is also set at ` + at("5"),
		`restart-strategy.type: bad value "none" from ` + at("20") + `: restart-strategy is also set at ` + at("9"),
		`jobmanager.rpc.port: bad value "http" from environment TIDE_JOBMANAGER_RPC_PORT: parse integer "http"`,
		`heartbeat.interval: bad value "-1s" from environment TIDE_HEARTBEAT_INTERVAL: must be positive`,
		`parse -D "no-equals-sign": want key=value`,
		`parse -D "=5s": want key=value`,
		`unknown key "pipline.max-parallelism" (value "4") from -D; did you mean "pipeline.max-parallelism"?`,
		`taskmanager.data.port: bad value "-1" from -D: must be between 0 and 65535`,
		`execution.buffer-timeout.interval: bad value "soon" from -D: parse duration "soon"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	lines := strings.Split(msg, "\n")
	if len(lines) != 26 {
		t.Errorf("report has %d lines, want 26 (one per problem)", len(lines))
	}
	// The report reads in the order of the sources: the file by line, the
	// environment, then -D.
	if !strings.Contains(lines[0], at("1")) || !strings.Contains(lines[len(lines)-1], "execution.buffer-timeout.interval") ||
		!strings.Contains(lines[19], "environment") {
		t.Errorf("report out of order:\n%s", msg)
	}
}

func TestCrossKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		dyn  []string
		want string
	}{
		{"timeout below interval, interval set last", []string{"TIDE_HEARTBEAT_TIMEOUT=20s"}, []string{"heartbeat.interval=30s"},
			`heartbeat.interval: bad value "30s" from -D: must be at most heartbeat.timeout, which is "20s" from environment TIDE_HEARTBEAT_TIMEOUT`},
		{"timeout below default interval", nil, []string{"heartbeat.timeout=5s"},
			`heartbeat.timeout: bad value "5s" from -D: must be at least heartbeat.interval, which is "10s" from default`},
		{"parallelism above max", nil, []string{"parallelism.default=200"},
			`parallelism.default: bad value "200" from -D: must be at most pipeline.max-parallelism, which is "128" from default`},
		{"max backoff below initial", nil, []string{"restart-strategy.exponential-delay.max-backoff=500ms"},
			`restart-strategy.exponential-delay.max-backoff: bad value "500ms" from -D: must be at least restart-strategy.exponential-delay.initial-backoff`},
		{"internal TLS without its files", nil, []string{"security.ssl.internal.enabled=true", "security.ssl.internal.cert-file=c.pem"},
			`security.ssl.internal.enabled: bad value "true" from -D: needs security.ssl.internal.key-file`},
		{"client certificates without HTTPS", nil, []string{"security.ssl.rest.authentication-enabled=true", "security.ssl.rest.ca-file=ca.pem"},
			`security.ssl.rest.authentication-enabled: bad value "true" from -D: needs security.ssl.rest.enabled`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(LoadOptions{Home: t.TempDir(), Environ: tc.env, Dynamic: tc.dyn})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	// A key that is itself bad does not also trip the relation.
	_, err := Load(LoadOptions{Home: t.TempDir(), Dynamic: []string{"heartbeat.interval=x"}})
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("want exactly one error, got %v", err)
	}
}

func TestFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"syntax", "heartbeat.timeout: [5s\n", "config: parse " + "HOME/conf/config.yaml: yaml: line"},
		{"top-level list", "- a\n- b\n", "HOME/conf/config.yaml:1: want a mapping of keys to values at the top level"},
		{"top-level scalar", "hello\n", "want a mapping"},
		{"complex key", "? [a, b]\n: c\n", "want a non-empty key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := newHome(t, tc.yaml)
			_, err := Load(LoadOptions{Home: home})
			if want := strings.ReplaceAll(tc.want, "HOME", home); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		home := t.TempDir()
		// A directory where the file should be cannot be read as one.
		if err := os.MkdirAll(filepath.Join(home, "conf", "config.yaml"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load(LoadOptions{Home: home})
		if err == nil || !strings.Contains(err.Error(), "config: read "+ConfigFile(home)) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestEnvAliasConflict(t *testing.T) {
	_, err := Load(LoadOptions{Home: t.TempDir(), Environ: []string{
		"TIDE_RESTART_STRATEGY=none", "TIDE_RESTART_STRATEGY_TYPE=fixed-delay"}})
	if err == nil || !strings.Contains(err.Error(), "restart-strategy is also set by environment TIDE_RESTART_STRATEGY") {
		t.Errorf("err = %v", err)
	}
	// The same variable twice: the later wins, as exec.Cmd does.
	c := mustLoad(t, LoadOptions{Home: t.TempDir(), Environ: []string{"TIDE_REST_PORT=1", "TIDE_REST_PORT=2"}})
	if c.RESTPort != 2 {
		t.Errorf("rest.port = %d, want 2", c.RESTPort)
	}
}

// FuzzParseYAML checks that no configuration file makes the flattener panic
// and that each entry it returns has a key and a line.
func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{"heartbeat.timeout: 5s\n", "heartbeat: {timeout: 5s}\n", "a: &x {b: *x}\n",
		"- 1\n", "? [a]\n: b\n", "x: [1, {y: 2}]\n", "", "~\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, _ := parseYAML("config.yaml", []byte(s))
		for _, e := range entries {
			if e.key == "" || e.line < 1 {
				t.Fatalf("bad entry %+v from %q", e, s)
			}
		}
	})
}
