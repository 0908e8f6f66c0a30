package chaos

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/config"
)

// Kind names a chaos event, or an observation recorded in the timeline.
type Kind string

// The chaos events Config.Kinds may name.
const (
	// KindStart starts a new TaskManager process.
	KindStart Kind = "start"
	// KindStop sends SIGTERM: the TaskManager leaves gracefully.
	KindStop Kind = "stop"
	// KindKill sends SIGKILL: a crash.
	KindKill Kind = "kill"
	// KindStopCont sends SIGSTOP, then SIGCONT after 1–3 heartbeat timeouts.
	KindStopCont Kind = "stop-cont"
	// KindJMKill sends SIGKILL to the JobManager, waits for it to be gone
	// and starts it again with the same command line and environment; the
	// next event waits until its REST API shows the job.
	KindJMKill Kind = "jm-kill"
	// KindJMStop is KindJMKill with SIGTERM: the JobManager stops gracefully
	// (the job's run does not end) before it is started again.
	KindJMStop Kind = "jm-stop"
)

// Observations and setup steps recorded in the timeline; they are not chaos
// events and do not count toward Config.Events.
const (
	// KindCont is the SIGCONT that ends a KindStopCont pause.
	KindCont Kind = "cont"
	// KindExit is a process's exit.
	KindExit Kind = "exit"
	// KindSetup is a process started to set the cluster up or to finish the run.
	KindSetup Kind = "setup"
	// KindRestart is the JobManager started again after a KindJMKill or
	// KindJMStop.
	KindRestart Kind = "restart"
)

// AllKinds is the default of Config.Kinds: every TaskManager event. The
// JobManager's events (JobManagerKinds) are drawn only when Config.Kinds
// names them.
var AllKinds = []Kind{KindStart, KindStop, KindKill, KindStopCont}

// JobManagerKinds are the events aimed at the JobManager. They are legal
// whatever the TaskManagers' states.
var JobManagerKinds = []Kind{KindJMKill, KindJMStop}

// everyKind lists every chaos event in a fixed order, the one pick draws
// from: the TaskManagers' first, so that runs without JobManager events
// draw as they did before those existed.
var everyKind = append(append([]Kind(nil), AllKinds...), JobManagerKinds...)

// kindNames is for messages: "start, stop, …, jm-kill or jm-stop".
func kindNames() string {
	var b strings.Builder
	for i, k := range everyKind {
		switch {
		case i == len(everyKind)-1:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(string(k))
	}
	return b.String()
}

// jobManager reports whether k is aimed at the JobManager.
func (k Kind) jobManager() bool { return slices.Contains(JobManagerKinds, k) }

// ParseKinds parses a list such as "start,stop,kill,stop-cont,jm-kill".
func ParseKinds(list []string) ([]Kind, error) {
	var out []Kind
	for _, s := range list {
		for part := range strings.SplitSeq(s, ",") {
			k := Kind(strings.TrimSpace(part))
			if k == "" {
				continue
			}
			if !slices.Contains(everyKind, k) {
				return nil, fmt.Errorf("chaos: unknown event kind %q: want %s", k, kindNames())
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// reservedKeys are set by Run itself: the ports are picked free and every
// address is loopback.
var reservedKeys = []string{"rest.port", "rest.address", "jobmanager.rpc.port", "jobmanager.rpc.address", "taskmanager.host"}

// DefaultDynamic is what Run passes to every process before Config.Dynamic
// (a later value wins): short heartbeats so that a stop-cont pause is
// noticed quickly, and frequent checkpoints so that a crash loses little.
var DefaultDynamic = []string{
	"heartbeat.interval=500ms",
	"heartbeat.timeout=3s",
	"execution.checkpointing.interval=1s",
}

// Config describes one chaos run. The zero value of every field means its
// default; call EnsureDefaults, then Validate.
type Config struct {
	// Events is the number of chaos events. Default 20.
	Events int
	// Seed seeds the math/rand/v2 source of every random choice. 0 picks
	// one from the clock; Run prints the seed used first, so a failing run
	// can be replayed. (Replays repeat the choices, not the timing.)
	Seed uint64
	// Keys is the Verify job's --keys. Default 16.
	Keys int
	// Rate is the Verify job's --rate, records per second. Default 5000.
	Rate int
	// Count is the Verify job's --count. Default Rate × (Events × Interval +
	// 10s), so that the input lasts through the events.
	Count int
	// MinTMs and MaxTMs bound the number of TaskManagers that are up (not
	// leaving; a paused one counts). Defaults 1 and 4.
	MinTMs, MaxTMs int
	// InitialTMs is the number of TaskManagers started before the first
	// event. Default 2, clamped to [MinTMs, MaxTMs].
	InitialTMs int
	// Interval is the time between events. Default 2s.
	Interval time.Duration
	// Kinds lists the events to draw from, uniformly among the legal ones.
	// Default AllKinds (the TaskManager events); JobManagerKinds may be
	// added.
	Kinds []Kind
	// Dir holds logs/<process>.log, home/ (TIDE_HOME: checkpoints, pid
	// files) and out/ (the job's output). "" makes a temporary directory,
	// which Run removes when the run passed.
	Dir string
	// Dynamic holds extra -D key=value settings for every process, after
	// DefaultDynamic. The ports and addresses are Run's to pick.
	Dynamic []string
	// Executable is the tide binary to start the processes with. Default
	// os.Executable().
	Executable string
	// StatusEvery is the period of the status line. Default 3s.
	StatusEvery time.Duration
	// FinishTimeout bounds the wait for the job to finish after the last
	// event. Default 60s + Count/Rate seconds.
	FinishTimeout time.Duration
	// StartTimeout bounds the wait for the JobManager's REST API and job,
	// at the start and after each JobManager restart. Default 30s.
	StartTimeout time.Duration
}

// EnsureDefaults fills the zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.Events == 0 {
		c.Events = 20
	}
	if c.Keys == 0 {
		c.Keys = 16
	}
	if c.Rate == 0 {
		c.Rate = 5000
	}
	if c.Interval == 0 {
		c.Interval = 2 * time.Second
	}
	if c.Count == 0 && c.Events >= 0 && c.Interval > 0 && c.Rate > 0 {
		span := time.Duration(c.Events)*c.Interval + 10*time.Second
		c.Count = int(float64(c.Rate) * span.Seconds())
	}
	if c.MinTMs == 0 {
		c.MinTMs = 1
	}
	if c.MaxTMs == 0 {
		c.MaxTMs = max(4, c.MinTMs)
	}
	if c.InitialTMs == 0 {
		c.InitialTMs = min(max(2, c.MinTMs), c.MaxTMs)
	}
	if len(c.Kinds) == 0 {
		c.Kinds = append([]Kind(nil), AllKinds...)
	}
	if c.StatusEvery == 0 {
		c.StatusEvery = 3 * time.Second
	}
	if c.FinishTimeout == 0 && c.Rate > 0 {
		c.FinishTimeout = 60*time.Second + time.Duration(float64(c.Count)/float64(c.Rate)*float64(time.Second))
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 30 * time.Second
	}
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("chaos: "+format, args...)) }
	if c.Events < 0 {
		bad("events %d must not be negative", c.Events)
	}
	if c.Keys <= 0 {
		bad("keys %d: want at least 1", c.Keys)
	}
	if c.Rate <= 0 {
		bad("rate %d: want at least 1 record/s (the run needs bounded, paced input)", c.Rate)
	}
	if c.Count <= 0 {
		bad("count %d: want at least 1 (the job must finish)", c.Count)
	}
	if c.MinTMs < 0 {
		bad("min-tms %d must not be negative", c.MinTMs)
	}
	if c.MaxTMs < 1 || c.MaxTMs < c.MinTMs {
		bad("max-tms %d: want at least 1 and at least min-tms %d", c.MaxTMs, c.MinTMs)
	}
	if c.InitialTMs < c.MinTMs || c.InitialTMs > c.MaxTMs {
		bad("initial TaskManagers %d outside [min-tms %d, max-tms %d]", c.InitialTMs, c.MinTMs, c.MaxTMs)
	}
	if c.Interval <= 0 {
		bad("interval %v must be positive", c.Interval)
	}
	if c.StatusEvery <= 0 || c.FinishTimeout <= 0 || c.StartTimeout <= 0 {
		bad("status period %v, finish timeout %v and start timeout %v must be positive", c.StatusEvery, c.FinishTimeout, c.StartTimeout)
	}
	if len(c.Kinds) == 0 {
		bad("no event kinds")
	}
	for _, k := range c.Kinds {
		if !slices.Contains(everyKind, k) {
			bad("unknown event kind %q: want %s", k, kindNames())
		}
	}
	for _, d := range c.Dynamic {
		key, _, err := config.ParseDynamic(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("chaos: -D%s: %w", d, err))
			continue
		}
		for _, r := range reservedKeys {
			if key == r {
				bad("-D%s: chaos picks %s itself (free ports on 127.0.0.1)", d, key)
			}
		}
	}
	return errors.Join(errs...)
}

// dynamic returns every -D setting passed to the processes, the ports and
// addresses last.
func (c *Config) dynamic(restPort, rpcPort int) []string {
	out := append([]string(nil), DefaultDynamic...)
	out = append(out, c.Dynamic...)
	return append(out,
		"rest.address=127.0.0.1", fmt.Sprintf("rest.port=%d", restPort),
		"jobmanager.rpc.address=127.0.0.1", fmt.Sprintf("jobmanager.rpc.port=%d", rpcPort),
		"taskmanager.host=127.0.0.1",
	)
}
