package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// MaxRotatedLogs is how many previous copies of a daemon's .log and .out file are kept
// (<name>.1 is the newest) when an instance index, and so a file name, is reused.
const MaxRotatedLogs = 5

// openRotated rotates path (path -> path.1 -> ... -> path.MaxRotatedLogs, dropping the oldest)
// and opens a fresh file at path for appending.
func openRotated(path string) (*os.File, error) {
	for i := MaxRotatedLogs - 1; i >= 0; i-- {
		from := path
		if i > 0 {
			from = fmt.Sprintf("%s.%d", path, i)
		}
		to := fmt.Sprintf("%s.%d", path, i+1)
		if err := os.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rotate %s: %w", from, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open daemon output: %w", err)
	}
	return f, nil
}
