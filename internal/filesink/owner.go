package filesink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// OwnerName is the file that names the job an output directory belongs to.
// Readers skip it, like everything whose name starts with a dot.
const OwnerName = ".tide-job"

// ErrOwnedByAnotherJob is wrapped by Claim's error when the directory holds
// another job's output.
var ErrOwnedByAnotherJob = errors.New("file sink: the output directory belongs to another job")

// Claim makes dir the output directory of job, or checks that it is. With
// restored, the job was restored from a checkpoint or savepoint — possibly
// of another job, the same one with other arguments, as when a job is
// changed and restarted from its savepoint — and continues its output: it
// takes the directory over. Otherwise the
// first sink subtask to claim a directory writes the job's id into it; a
// sink of another job — the same job with other arguments is another job
// — is refused, since its output would mix with the first job's, and an
// exactly-once check of either would find the other's lines twice. Claim
// is safe for concurrent use by the subtasks of one job: the owner file
// appears atomically, whole.
func Claim(dir, job string, restored bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	path := filepath.Join(dir, OwnerName)
	tmp, err := os.CreateTemp(dir, OwnerName+".*.tmp")
	if err != nil {
		return fmt.Errorf("file sink: claim %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(job + "\n")
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("file sink: claim %s: %w", dir, err)
	}
	if restored {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("file sink: claim %s: %w", dir, err)
		}
		return syncDir(dir)
	}
	// A hard link appears atomically and fails if the name exists.
	if err := os.Link(tmp.Name(), path); err == nil {
		return syncDir(dir)
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("file sink: claim %s: %w", dir, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("file sink: claim %s: %w", dir, err)
	}
	if owner := strings.TrimSpace(string(b)); owner != job {
		return fmt.Errorf("%w: %s holds the output of job %s, and this is job %s (another job, or the same one with other arguments): "+
			"write into another directory, empty it first, or restore this job from a savepoint of that one to continue its output",
			ErrOwnedByAnotherJob, dir, owner, job)
	}
	return nil
}
