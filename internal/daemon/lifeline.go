//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// EnvLifelineFD names the file descriptor through which a child of a foreground supervisor
// (`tide run`) notices that the supervisor is gone: the read end of a pipe whose only write
// end the supervisor holds. When the supervisor exits, however it dies (kill -9 included), the
// kernel closes that write end and the child reads end-of-file.
//
// It is the portable second line behind Linux's parent-death signal ([Lifeline.Attach] sets
// both): prctl(PR_SET_PDEATHSIG) fires when the *thread* that forked the child exits, so it is
// only as reliable as the caller's care to fork from a thread that lives as long as it does.
const EnvLifelineFD = "TIDE_LIFELINE_FD"

// Lifeline ties one child's life to this process's. The write end never leaves this process
// (os.Pipe sets close-on-exec), so only this process's exit, or Close, ends the child's line.
// Each child needs its own Lifeline: passing one read end to several children would let their
// runtimes flip its blocking mode under each other.
type Lifeline struct {
	r, w *os.File
}

// NewLifeline creates the pipe.
func NewLifeline() (*Lifeline, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create lifeline pipe: %w", err)
	}
	return &Lifeline{r: r, w: w}, nil
}

// Attach passes the read end to cmd, names it in cmd's environment, and (on Linux) asks the
// kernel to SIGKILL the child when the forking thread exits. Call it before cmd.Start and
// after setting cmd.Env, cmd.ExtraFiles and cmd.SysProcAttr; start cmd from a thread that lives
// as long as the child should (runtime.LockOSThread on a goroutine that does not exit).
func (l *Lifeline) Attach(cmd *exec.Cmd) {
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, l.r)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("%s=%d", EnvLifelineFD, fd))
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	setParentDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
}

// Started closes this process's copy of the read end. Call it after cmd.Start, whether that
// succeeded or not.
func (l *Lifeline) Started() {
	if l.r != nil {
		_ = l.r.Close()
		l.r = nil
	}
}

// Close cuts the line: the child reads end-of-file as if this process had died.
func (l *Lifeline) Close() error {
	l.Started()
	return l.w.Close()
}

// WatchParent calls gone, once, from a goroutine of its own, when the process that started
// this one through a [Lifeline] exits. Without EnvLifelineFD it does nothing. It unsets
// EnvLifelineFD, so that the processes this one starts do not inherit the line. stop ends the
// watch and waits for its goroutine; it does not call gone.
func WatchParent(gone func()) (stop func(), err error) {
	v, ok := os.LookupEnv(EnvLifelineFD)
	if !ok {
		return func() {}, nil
	}
	if err := os.Unsetenv(EnvLifelineFD); err != nil {
		return nil, fmt.Errorf("watch parent: %w", err)
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("watch parent: %s=%q is not a descriptor above standard error", EnvLifelineFD, v)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("watch parent: descriptor %d from %s: %w", fd, EnvLifelineFD, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, fmt.Errorf("watch parent: descriptor %d from %s is not a pipe", fd, EnvLifelineFD)
	}
	syscall.CloseOnExec(fd)
	// Non-blocking, so that the runtime polls it and Close interrupts the pending Read.
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("watch parent: %w", err)
	}
	f := os.NewFile(uintptr(fd), "lifeline")
	done := make(chan struct{})
	go func() { // owner: WatchParent's caller, whose stop closes f and waits for done
		defer close(done)
		var buf [64]byte
		for {
			_, err := f.Read(buf[:])
			if errors.Is(err, os.ErrClosed) {
				return // stopped
			}
			if err != nil {
				// io.EOF: every write end is closed, the parent is gone. Any other error
				// leaves no way to learn it later, so it counts the same.
				gone()
				return
			}
		}
	}()
	return sync.OnceFunc(func() {
		_ = f.Close()
		<-done
	}), nil
}
