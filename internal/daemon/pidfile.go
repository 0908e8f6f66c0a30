package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxPIDFileSize bounds what readPIDFile accepts; real pid files are well under 1 KiB.
const maxPIDFileSize = 64 << 10

// record is the content of a pid file.
type record struct {
	PID   int
	Start uint64 // process start time (see procStat for the unit); 0 if unknown
	Log   string
	Out   string
	// StopTimeout is how long the process may take to exit after SIGTERM, as it declared
	// with [RecordStopTimeout]; 0 if it did not.
	StopTimeout time.Duration
}

// encode renders r: the pid on the first line, then key=value lines.
func (r record) encode() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", r.PID)
	if r.Start != 0 {
		fmt.Fprintf(&b, "start=%d\n", r.Start)
	}
	if r.Log != "" {
		fmt.Fprintf(&b, "log=%s\n", r.Log)
	}
	if r.Out != "" {
		fmt.Fprintf(&b, "out=%s\n", r.Out)
	}
	if r.StopTimeout > 0 {
		fmt.Fprintf(&b, "stop-timeout=%s\n", r.StopTimeout)
	}
	return []byte(b.String())
}

// parseRecord decodes a pid file. The first line must be a positive pid; later lines that are not
// known key=value pairs are ignored, so that later versions may add keys.
func parseRecord(data []byte) (record, error) {
	if len(data) > maxPIDFileSize {
		return record{}, fmt.Errorf("pid file too large (%d bytes)", len(data))
	}
	lines := strings.Split(string(data), "\n")
	first := strings.TrimSpace(lines[0])
	pid, err := strconv.Atoi(first)
	if err != nil || pid <= 0 {
		return record{}, fmt.Errorf("bad pid %q on first line", first)
	}
	r := record{PID: pid}
	for _, line := range lines[1:] {
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch key {
		case "start":
			if n, err := strconv.ParseUint(val, 10, 64); err == nil {
				r.Start = n
			}
		case "log":
			r.Log = val
		case "out":
			r.Out = val
		case "stop-timeout":
			if d, err := time.ParseDuration(val); err == nil && d > 0 {
				r.StopTimeout = d
			}
		}
	}
	return r, nil
}

func readPIDFile(path string) (record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return record{}, err
	}
	r, err := parseRecord(data)
	if err != nil {
		return record{}, fmt.Errorf("read %s: %w", path, err)
	}
	return r, nil
}

// writePIDFile writes r to path atomically (temporary file, then rename), so readers never see a
// partial file.
func writePIDFile(path string, r record) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	_, werr := tmp.Write(r.encode())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write pid file %s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}
