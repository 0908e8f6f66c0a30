package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// rescaleOptions configures the rescale benchmark. Every combination of
// stateMB and local runs on a fresh cluster.
type rescaleOptions struct {
	tide     string
	logs     io.Writer
	keep     bool
	reps     int
	rate     float64
	keys     int64
	stateMB  floatList
	local    boolList
	tls      boolList
	perKey   int
	interval time.Duration
	settle   time.Duration
}

func (o *rescaleOptions) bind(fs *flag.FlagSet) {
	fs.IntVar(&o.reps, "cycles", 3, "rescale: cycles of (scale-up, SIGTERM, scale-up, SIGKILL) per configuration")
	fs.Float64Var(&o.rate, "rate", 100_000, "rescale: records/s of the running job")
	fs.Int64Var(&o.keys, "state-keys", 1024, "rescale: number of keys with --state-mb 0 (the state is then two int64 per key)")
	o.stateMB = floatList{0}
	fs.Var(&o.stateMB, "state-mb", "rescale: approximate keyed state, MiB, comma-separated list (0: small state, --state-keys keys)")
	o.local = boolList{true}
	fs.Var(&o.local, "local-recovery", "rescale: state.backend.local-recovery of the TaskManagers, comma-separated list (true,false)")
	o.tls = boolList{false}
	fs.Var(&o.tls, "tls", "rescale: mutual TLS and the shared secret on the RPC and data plane, comma-separated list (false,true)")
	fs.IntVar(&o.perKey, "state-bytes-per-key", 1024, "rescale: bytes of the value stored per key when --state-mb > 0")
	fs.DurationVar(&o.interval, "checkpoint-interval", time.Second, "rescale: execution.checkpointing.interval")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "rescale: how long the job runs at its new parallelism before the next TaskManager event")
	fs.BoolVar(&o.keep, "keep", false, "rescale: keep each cluster's TIDE_HOME (logs) even when the run succeeds")
}

func (o *rescaleOptions) validate() error {
	var errs []error
	if o.reps < 1 || o.keys < 1 || o.rate <= 0 {
		errs = append(errs, fmt.Errorf("rescale: --cycles %d and --state-keys %d must be at least 1 and --rate %v positive", o.reps, o.keys, o.rate))
	}
	if o.perKey < 1 || o.perKey > 1<<20 {
		errs = append(errs, fmt.Errorf("rescale: --state-bytes-per-key %d must be in [1, %d]", o.perKey, 1<<20))
	}
	for _, mb := range o.stateMB {
		if mb < 0 || mb > 4096 {
			errs = append(errs, fmt.Errorf("rescale: --state-mb %v must be in [0, 4096]", mb))
		}
	}
	if len(o.stateMB) == 0 || len(o.local) == 0 || len(o.tls) == 0 {
		errs = append(errs, errors.New("rescale: --state-mb, --local-recovery and --tls need at least one value"))
	}
	if o.settle < 0 {
		errs = append(errs, fmt.Errorf("rescale: --settle %v must not be negative", o.settle))
	}
	if o.interval <= 0 {
		errs = append(errs, fmt.Errorf("rescale: --checkpoint-interval %v must be positive", o.interval))
	}
	return errors.Join(errs...)
}

// rescaleConfig is one configuration of the rescale benchmark.
type rescaleConfig struct {
	stateMB float64
	local   bool
	tls     bool
}

func (c rescaleConfig) String() string {
	state := "small state"
	if c.stateMB > 0 {
		state = fmt.Sprintf("%s MiB state", strconv.FormatFloat(c.stateMB, 'f', -1, 64))
	}
	s := fmt.Sprintf("%s, local recovery %s", state, map[bool]string{true: "on", false: "off"}[c.local])
	if c.tls {
		s += ", TLS"
	}
	return s
}

// jobArgs returns the Throughput job's arguments for c.
func (o *rescaleOptions) jobArgs(c rescaleConfig) []string {
	args := []string{"--records", "0", "--stateful", "--rate", strconv.FormatFloat(o.rate, 'f', -1, 64)}
	if c.stateMB == 0 {
		return append(args, "--keys", strconv.FormatInt(o.keys, 10))
	}
	return append(args, "--keys", strconv.FormatInt(o.stateKeys(c), 10), "--state-bytes-per-key", strconv.Itoa(o.perKey))
}

// stateKeys is the number of keys that hold c.stateMB MiB of payload.
func (o *rescaleOptions) stateKeys(c rescaleConfig) int64 {
	per := int64(max(o.perKey, 1))
	return (int64(c.stateMB*(1<<20)) + per - 1) / per
}

// rescaleKind is what caused a rescale.
type rescaleKind string

const (
	kindUp   rescaleKind = "scale-up"
	kindTerm rescaleKind = "SIGTERM"
	kindKill rescaleKind = "SIGKILL"
)

// RescaleSample is one measured rescale, kept in the JSON report.
type RescaleSample struct {
	Config         string      `json:"config"`
	ID             int64       `json:"id"`
	Kind           rescaleKind `json:"kind"`
	Trigger        string      `json:"trigger"`
	From           int         `json:"from"`
	To             int         `json:"to"`
	Checkpoint     int64       `json:"checkpoint"`
	PauseMs        int64       `json:"pause_ms"`
	RestoredBytes  int64       `json:"restored_bytes"`
	LocalKeyGroups int         `json:"local_key_groups"`
	Reprocessed    int64       `json:"reprocessed_records"`
	// StateSize is the state_size of the checkpoint the rescale restored
	// (or of the latest completed one when the history no longer has it).
	StateSize int64 `json:"state_size"`
	// DetectMs is, for SIGKILL, the rescale's start minus the kill time.
	DetectMs int64  `json:"detect_ms,omitempty"`
	Message  string `json:"message,omitempty"`
	// Phases are from the JobManager's log.
	Phases Phases `json:"phases"`
}

// restoredShare is the restored bytes over the checkpoint's state size.
func (s RescaleSample) restoredShare() (float64, bool) {
	if s.StateSize <= 0 {
		return 0, false
	}
	return float64(s.RestoredBytes) / float64(s.StateSize), true
}

func runRescale(ctx context.Context, o rescaleOptions, rep *Report, stderr io.Writer) error {
	var errs error
	for _, mb := range o.stateMB {
		for _, local := range o.local {
			for _, tls := range o.tls {
				c := rescaleConfig{stateMB: mb, local: local, tls: tls}
				samples, err := rescaleCycles(ctx, o, c, stderr)
				rep.Rescales = append(rep.Rescales, samples...)
				addRescaleFigures(rep, o, c, samples)
				if err != nil {
					errs = errors.Join(errs, fmt.Errorf("rescale (%s): %w", c, err))
					if ctx.Err() != nil {
						return errs
					}
				}
			}
		}
	}
	return errs
}

// addRescaleFigures adds c's figures to rep.
func addRescaleFigures(rep *Report, o rescaleOptions, c rescaleConfig, samples []RescaleSample) {
	pick := func(k rescaleKind, f func(RescaleSample) (float64, bool)) []float64 {
		var xs []float64
		for _, s := range samples {
			if s.Kind == k {
				if x, ok := f(s); ok {
					xs = append(xs, x)
				}
			}
		}
		return xs
	}
	pause := func(s RescaleSample) (float64, bool) { return float64(s.PauseMs), s.PauseMs >= 0 }
	mib := func(s RescaleSample) (float64, bool) { return float64(s.RestoredBytes) / (1 << 20), true }
	share := RescaleSample.restoredShare
	bound := 1000.0
	if c.stateMB > 0 {
		bound = 3000
	}
	note := fmt.Sprintf("Throughput %s, reactive, checkpoints every %v, heartbeat defaults, %v at each parallelism before the next event",
		strings.Join(o.jobArgs(c), " "), o.interval, o.settle)
	name := func(s string) string { return fmt.Sprintf("%s [%s]", s, c) }
	var sizes []float64
	for _, s := range samples {
		if s.StateSize > 0 {
			sizes = append(sizes, float64(s.StateSize)/(1<<20))
		}
	}
	rep.add(name("checkpoint state_size"), "MiB", sizes, nil, note+"; of the checkpoint each rescale restored")
	rep.add(name("scale-up 1->2 pause"), "ms", pick(kindUp, pause), &target{bound: bound}, note)
	rep.add(name("scale-up restored"), "MiB", pick(kindUp, mib), nil, note)
	rep.add(name("scale-up restored / state_size"), "ratio", pick(kindUp, share), nil, note)
	rep.add(name("SIGTERM 2->1 pause"), "ms", pick(kindTerm, pause), &target{bound: bound}, note)
	rep.add(name("SIGTERM restored"), "MiB", pick(kindTerm, mib), nil, note)
	rep.add(name("SIGTERM restored / state_size"), "ratio", pick(kindTerm, share), nil, note)
	rep.add(name("SIGTERM reprocessed records"), "records", pick(kindTerm, func(s RescaleSample) (float64, bool) {
		return float64(s.Reprocessed), true
	}), &target{bound: 1}, note)
	rep.add(name("SIGKILL 2->1 pause"), "ms", pick(kindKill, pause), nil, note+"; includes restart-strategy.fixed-delay.delay (1s)")
	rep.add(name("SIGKILL restored"), "MiB", pick(kindKill, mib), nil, note)
	rep.add(name("SIGKILL restored / state_size"), "ratio", pick(kindKill, share), nil, note)
	rep.add(name("kill -9 detection (kill -> rescale start)"), "ms", pick(kindKill, func(s RescaleSample) (float64, bool) {
		return float64(s.DetectMs), true
	}), &target{bound: 1000}, note)
}

// floatList is a flag of comma-separated numbers.
type floatList []float64

func (l *floatList) String() string {
	var s []string
	for _, x := range *l {
		s = append(s, strconv.FormatFloat(x, 'f', -1, 64))
	}
	return strings.Join(s, ",")
}

func (l *floatList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", f)
		}
		*l = append(*l, x)
	}
	return nil
}

// boolList is a flag of comma-separated booleans.
type boolList []bool

func (l *boolList) String() string {
	var s []string
	for _, x := range *l {
		s = append(s, strconv.FormatBool(x))
	}
	return strings.Join(s, ",")
}

func (l *boolList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		x, err := strconv.ParseBool(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("%q is not true or false", f)
		}
		*l = append(*l, x)
	}
	return nil
}
