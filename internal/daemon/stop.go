//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// pollInterval is how often a stop checks whether a signalled process has exited.
const pollInterval = 20 * time.Millisecond

// StopGrace is how long a stop waits beyond the StopTimeout a process declared: the time it
// needs to shut down once that timeout has passed.
const StopGrace = 30 * time.Second

// defaultWaitingEvery is the default of StopOptions.WaitingEvery.
const defaultWaitingEvery = 5 * time.Second

// StopOptions adjusts [StopWithOptions].
type StopOptions struct {
	// Signal is sent to the processes. Default: SIGTERM.
	Signal syscall.Signal
	// Wait bounds the wait for the signalled processes to exit, in total. Zero: do not wait.
	// A process that declared it may take longer ([RecordStopTimeout]) is waited for at least
	// its StopTimeout plus [StopGrace].
	Wait time.Duration
	// All stops every running instance instead of the most recently started one.
	All bool
	// Signalled, if set, is called for each process right after it has been signalled.
	Signalled func(Process)
	// Waiting, if set, is called every WaitingEvery while signalled processes are still
	// running, with those processes and the time since they were signalled.
	Waiting func(pending []Process, elapsed time.Duration)
	// WaitingEvery is the period of Waiting. Default: 5 s.
	WaitingEvery time.Duration
	// Skipped, if set, is called for each pid file the listing did not count as a running
	// instance: stale files it removed, and files naming a running process that cannot be
	// proven to be the one recorded (which is never signalled).
	Skipped func(Skipped)
}

// Stop sends sig to the most recently started running instance of kind in home and waits up to
// wait for it to exit. It returns the instance it signalled. If none is running, the error is
// a [*NotRunningError]; if the process outlives wait, the error wraps [ErrStillRunning] and its
// pid file is kept, so a second Stop (e.g. with SIGKILL) picks the same process.
//
// Only a process whose start time matches the one its pid file records is signalled; see
// [StopWithOptions].
func Stop(home string, kind Kind, sig syscall.Signal, wait time.Duration) (Process, error) {
	ps, err := StopWithOptions(home, kind, StopOptions{Signal: sig, Wait: wait})
	if len(ps) == 0 {
		return Process{}, err
	}
	return ps[0], err
}

// StopAll sends sig to every running instance of kind in home and waits up to wait (in total)
// for all of them to exit. It returns the instances it signalled, oldest first. If none is
// running, the error is a [*NotRunningError]; otherwise it joins one error per instance that
// could not be signalled or outlived wait (wrapping [ErrStillRunning]).
func StopAll(home string, kind Kind, sig syscall.Signal, wait time.Duration) ([]Process, error) {
	return StopWithOptions(home, kind, StopOptions{Signal: sig, Wait: wait, All: true})
}

// StopWithOptions signals the most recently started running instance of kind in home (every
// one with opts.All) and waits up to opts.Wait for them to exit. It returns the instances it
// stopped, oldest first (one that exited by itself meanwhile is not signalled); errors are as
// for [Stop] and [StopAll].
//
// A process is signalled only if it is proven to be the one its pid file was written for:
// its start time is recorded and matches the running process's. A pid file without a start
// time, or on a system that does not report start times, names a process that may be any
// process that reused the pid; it is reported through opts.Skipped and left alone.
func StopWithOptions(home string, kind Kind, opts StopOptions) ([]Process, error) {
	if opts.Signal == 0 {
		opts.Signal = syscall.SIGTERM
	}
	if opts.WaitingEvery <= 0 {
		opts.WaitingEvery = defaultWaitingEvery
	}
	r, err := openRegistry(home, kind)
	if err != nil {
		return nil, fmt.Errorf("stop %s: %w", kind, err)
	}
	l, err := r.list()
	if err != nil {
		return nil, fmt.Errorf("stop %s: %w", kind, err)
	}
	if opts.Skipped != nil {
		for _, s := range l.skipped {
			opts.Skipped(s)
		}
	}
	if len(l.live) == 0 {
		return nil, &NotRunningError{Kind: kind, Home: r.home, Unverified: len(l.unverified)}
	}
	targets := l.live
	if !opts.All {
		targets = targets[len(targets)-1:]
	}
	procs := processes(targets)
	if err := r.signalAndWait(targets, opts); err != nil {
		return procs, fmt.Errorf("stop %s in %s: %w", kind, r.home, err)
	}
	return procs, nil
}

// signalAndWait signals each instance, waits up to opts.Wait for all to exit, and removes the
// pid files of those that did. The lock is not held while waiting.
func (r *registry) signalAndWait(ins []instance, opts StopOptions) error {
	var errs []error
	pending := make([]instance, 0, len(ins))
	for _, in := range ins {
		// Re-check right before signalling so a pid that exited (and may have been reused) since
		// the listing is not signalled.
		if !alive(in.PID, in.start) {
			continue
		}
		if err := syscall.Kill(in.PID, opts.Signal); err != nil {
			if !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("signal %s pid %d with %v: %w", r.kind, in.PID, opts.Signal, err))
			}
			continue
		}
		pending = append(pending, in)
		if opts.Signalled != nil {
			opts.Signalled(in.Process)
		}
	}

	wait := opts.Wait
	for _, in := range pending {
		if in.StopTimeout > 0 {
			wait = max(wait, in.StopTimeout+StopGrace)
		}
	}
	start := time.Now()
	deadline := start.Add(wait)
	nextWaiting := start.Add(opts.WaitingEvery)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		pending = removeExited(pending)
		now := time.Now()
		if len(pending) == 0 || !now.Before(deadline) {
			break
		}
		if opts.Waiting != nil && !now.Before(nextWaiting) {
			opts.Waiting(processes(pending), now.Sub(start))
			nextWaiting = nextWaiting.Add(opts.WaitingEvery)
		}
		<-ticker.C
	}
	for _, in := range pending {
		errs = append(errs, fmt.Errorf("%s pid %d (index %d) did not exit within %v after %v: %w",
			r.kind, in.PID, in.Index, wait, opts.Signal, ErrStillRunning))
	}

	// Forget the exited ones now rather than at the next listing. A process that registered
	// itself usually removed its own entry already.
	if err := r.locked(func() error {
		for _, in := range ins {
			if !alive(in.PID, in.start) {
				if err := r.removeIfPIDLocked(in.path, in.PID); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeExited returns the instances of ins that are still alive, reusing its storage.
func removeExited(ins []instance) []instance {
	out := ins[:0]
	for _, in := range ins {
		if alive(in.PID, in.start) {
			out = append(out, in)
		}
	}
	return out
}
