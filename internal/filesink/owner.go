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
	// Output directories nest neither way: a reader of the outer one
	// (tide verify) reads the inner one too.
	if err := checkNesting(dir, job); err != nil {
		return err
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

// checkNesting refuses a directory inside or around another job's output.
func checkNesting(dir, job string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	owned := func(d string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(d, OwnerName))
		if err != nil {
			return "", false
		}
		owner := strings.TrimSpace(string(b))
		return owner, owner != job
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if owner, other := owned(d); other {
			return fmt.Errorf("%w: %s is inside %s, which holds the output of job %s: write elsewhere", ErrOwnedByAnotherJob, dir, d, owner)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	var inner error
	_ = filepath.WalkDir(abs, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() || p == abs {
			return nil
		}
		if owner, other := owned(p); other {
			inner = fmt.Errorf("%w: %s holds %s, the output of job %s: write elsewhere", ErrOwnedByAnotherJob, dir, p, owner)
			return filepath.SkipAll
		}
		return nil
	})
	return inner
}
