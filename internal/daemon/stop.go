//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// pollInterval is how often Stop and StopAll check whether a signalled process has exited.
const pollInterval = 20 * time.Millisecond

// Stop sends sig to the most recently started live instance of kind in home and waits up to wait
// for it to exit. It returns the instance it signalled. If none is running, the error is a
// [*NotRunningError]; if the process outlives wait, the error wraps [ErrStillRunning] and its pid
// file is kept, so a second Stop (e.g. with SIGKILL) picks the same process.
func Stop(home string, kind Kind, sig syscall.Signal, wait time.Duration) (Process, error) {
	r, live, err := running(home, kind)
	if err != nil {
		return Process{}, fmt.Errorf("stop %s: %w", kind, err)
	}
	newest := live[len(live)-1]
	if err := r.signalAndWait([]instance{newest}, sig, wait); err != nil {
		return newest.Process, fmt.Errorf("stop %s in %s: %w", kind, r.home, err)
	}
	return newest.Process, nil
}

// StopAll sends sig to every live instance of kind in home and waits up to wait (in total) for
// all of them to exit. It returns the instances it signalled, oldest first. If none is running,
// the error is a [*NotRunningError]; otherwise it joins one error per instance that could not be
// signalled or outlived wait (wrapping [ErrStillRunning]).
func StopAll(home string, kind Kind, sig syscall.Signal, wait time.Duration) ([]Process, error) {
	r, live, err := running(home, kind)
	if err != nil {
		return nil, fmt.Errorf("stop all %s: %w", kind, err)
	}
	procs := make([]Process, len(live))
	for i, in := range live {
		procs[i] = in.Process
	}
	if err := r.signalAndWait(live, sig, wait); err != nil {
		return procs, fmt.Errorf("stop all %s in %s: %w", kind, r.home, err)
	}
	return procs, nil
}

// running returns the registry and its live instances, or a *NotRunningError if there are none.
func running(home string, kind Kind) (*registry, []instance, error) {
	r, err := openRegistry(home, kind)
	if err != nil {
		return nil, nil, err
	}
	var live []instance
	err = r.locked(func() error {
		live, err = r.liveLocked()
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list %s in %s: %w", kind, r.home, err)
	}
	if len(live) == 0 {
		return nil, nil, &NotRunningError{Kind: kind, Home: r.home}
	}
	return r, live, nil
}

// signalAndWait signals each instance, waits up to wait for all to exit, and removes the pid
// files of those that did. The lock is not held while waiting.
func (r *registry) signalAndWait(ins []instance, sig syscall.Signal, wait time.Duration) error {
	var errs []error
	pending := make([]instance, 0, len(ins))
	for _, in := range ins {
		// Re-check right before signalling so a pid that exited (and may have been reused) since
		// the listing is not signalled.
		if !alive(in.PID, in.start) {
			continue
		}
		if err := syscall.Kill(in.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signal %s pid %d with %v: %w", r.kind, in.PID, sig, err))
			continue
		}
		pending = append(pending, in)
	}

	deadline := time.Now().Add(wait)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		pending = removeExited(pending)
		if len(pending) == 0 || !time.Now().Before(deadline) {
			break
		}
		<-ticker.C
	}
	for _, in := range pending {
		errs = append(errs, fmt.Errorf("%s pid %d (index %d) did not exit within %v after %v: %w",
			r.kind, in.PID, in.Index, wait, sig, ErrStillRunning))
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
