//go:build unix

package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// EnvReadyFD names the file descriptor on which a process started by [Start] (or by another
// supervisor that speaks the protocol, like `tide run`) reports that it is up, with
// [NotifyReady].
//
// The protocol, like systemd's sd_notify or s6's notification-fd: the parent passes the write
// end of a pipe and names its descriptor in the environment; the child writes one line,
// "READY" and a JSON object of string details, when it is up, and closes the pipe. A child that
// exits first closes the pipe without that line, which the parent sees at once, without
// polling its log.
const EnvReadyFD = "TIDE_READY_FD"

// DefaultReadyTimeout is how long [Start] waits for a daemon to report that it is up.
const DefaultReadyTimeout = 30 * time.Second

// readyPrefix starts the line a process writes when it is up.
const readyPrefix = "READY "

// maxReadyLine bounds the report a parent reads.
const maxReadyLine = 64 << 10

// errNoReport means the child closed the pipe, usually by exiting, without reporting.
var errNoReport = errors.New("daemon: closed the readiness pipe without reporting")

// NotifyReady tells the process that started this one that it is up, with details for the user
// (such as the addresses it listens on). When EnvReadyFD is not set (started by hand, by
// systemd, in a container) it does nothing. It reports at most once: it unsets EnvReadyFD, so
// that neither a second call nor a process this one starts writes to the descriptor, and it
// closes the descriptor.
func NotifyReady(details map[string]string) error {
	v, ok := os.LookupEnv(EnvReadyFD)
	if !ok {
		return nil
	}
	if err := os.Unsetenv(EnvReadyFD); err != nil {
		return fmt.Errorf("notify ready: %w", err)
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return fmt.Errorf("notify ready: %s=%q is not a descriptor above standard error", EnvReadyFD, v)
	}
	// Only ever write to a pipe: a stale variable must not make us write into some file.
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Errorf("notify ready: descriptor %d from %s: %w", fd, EnvReadyFD, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return fmt.Errorf("notify ready: descriptor %d from %s is not a pipe", fd, EnvReadyFD)
	}
	f := os.NewFile(uintptr(fd), "ready-pipe")
	defer f.Close()
	if details == nil {
		details = map[string]string{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("notify ready: %w", err)
	}
	if _, err := f.Write(append(append([]byte(readyPrefix), b...), '\n')); err != nil {
		return fmt.Errorf("notify ready on descriptor %d: %w", fd, err)
	}
	return nil
}

// ReadyPipe is a parent's side of the readiness protocol of [EnvReadyFD] for one child.
type ReadyPipe struct {
	r, w *os.File
}

// NewReadyPipe creates the pipe. Close it when done.
func NewReadyPipe() (*ReadyPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create readiness pipe: %w", err)
	}
	return &ReadyPipe{r: r, w: w}, nil
}

// Attach passes the pipe's write end to cmd and names it in cmd's environment. Call it before
// cmd.Start and after setting cmd.Env and cmd.ExtraFiles.
func (p *ReadyPipe) Attach(cmd *exec.Cmd) {
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, p.w)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("%s=%d", EnvReadyFD, fd))
}

// Started closes this process's copy of the write end, so that the read end reports the end of
// the file once the child has exited. Call it after cmd.Start, whether that succeeded or not.
func (p *ReadyPipe) Started() {
	if p.w != nil {
		_ = p.w.Close()
		p.w = nil
	}
}

// Wait waits until deadline for the child's report and returns its details. If the child closes
// the pipe without a report (it exited) the error wraps errNoReport; if the deadline passes
// first it wraps os.ErrDeadlineExceeded.
func (p *ReadyPipe) Wait(deadline time.Time) (map[string]string, error) {
	p.Started()
	if err := p.r.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("wait for readiness: %w", err)
	}
	line, err := bufio.NewReaderSize(io.LimitReader(p.r, maxReadyLine), 4096).ReadBytes('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("wait for readiness: %w", err)
	}
	rest, ok := bytes.CutPrefix(line, []byte(readyPrefix))
	if !ok || err != nil {
		return nil, errNoReport
	}
	details := map[string]string{}
	if err := json.Unmarshal(rest, &details); err != nil {
		return nil, fmt.Errorf("wait for readiness: bad report %q: %w", strings.TrimSpace(string(line)), err)
	}
	return details, nil
}

// Close closes both ends.
func (p *ReadyPipe) Close() error {
	p.Started()
	return p.r.Close()
}

// StartError reports a daemon that did not come up: it exited first, or it did not report
// within the timeout (then it is still running).
type StartError struct {
	Kind    Kind
	Process Process
	// Exit says how the process ended, e.g. "exit status 1"; empty if it is still running.
	Exit string
	// Timeout is the wait that passed without a report; 0 if the process exited.
	Timeout time.Duration
	// LogTail is the end of the process's log file (its standard error).
	LogTail string
}

func (e *StartError) Error() string {
	var b strings.Builder
	if e.Exit != "" {
		fmt.Fprintf(&b, "%s (pid %d) exited (%s) before it was up", e.Kind, e.Process.PID, e.Exit)
	} else {
		fmt.Fprintf(&b, "%s (pid %d) did not report that it is up within %v; it is still running", e.Kind, e.Process.PID, e.Timeout)
	}
	if e.LogTail == "" {
		fmt.Fprintf(&b, "; its log %s is empty", e.Process.Log)
		return b.String()
	}
	fmt.Fprintf(&b, "; the end of its log %s:\n", e.Process.Log)
	for line := range strings.Lines(e.LogTail) {
		b.WriteString("  ")
		b.WriteString(line)
	}
	return strings.TrimRight(b.String(), "\n")
}

// logTailLines and logTailBytes bound StartError.LogTail.
const (
	logTailLines = 20
	logTailBytes = 8 << 10
)

// tail returns the last lines of the file at path, at most logTailLines and about
// logTailBytes.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-logTailBytes)
	buf := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(buf, off)
	s := string(buf[:n])
	if off > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:] // drop the partial first line
		}
	}
	s = strings.TrimRight(s, "\n")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "") + "\n"
}
