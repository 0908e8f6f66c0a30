package filesink

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestClaim(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs { // the subtasks of one job claim at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Claim(dir, "job-a", false)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("subtask %d: %v", i, err)
		}
	}
	if err := Claim(dir, "job-a", false); err != nil {
		t.Fatalf("the owner claiming again: %v", err)
	}
	err := Claim(dir, "job-b", false)
	if !errors.Is(err, ErrOwnedByAnotherJob) {
		t.Fatalf("another job's claim = %v, want ErrOwnedByAnotherJob", err)
	}
	// A job restored from a savepoint of job-a continues its output.
	if err := Claim(dir, "job-c", true); err != nil {
		t.Fatalf("a restored job taking over: %v", err)
	}
	if err := Claim(dir, "job-a", false); !errors.Is(err, ErrOwnedByAnotherJob) {
		t.Fatalf("job-a after job-c took over = %v, want ErrOwnedByAnotherJob", err)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 1 || es[0].Name() != OwnerName {
		t.Fatalf("the directory holds %v; want only %s (no temporary files left)", es, OwnerName)
	}
}

func TestClaimRefusesNestedOutputs(t *testing.T) {
	root := t.TempDir()
	outer, inner := filepath.Join(root, "out"), filepath.Join(root, "out", "sub")
	if err := Claim(outer, "job-a", false); err != nil {
		t.Fatal(err)
	}
	if err := Claim(inner, "job-b", false); !errors.Is(err, ErrOwnedByAnotherJob) {
		t.Fatalf("a directory inside another job's output: %v, want ErrOwnedByAnotherJob", err)
	}
	other := filepath.Join(root, "b")
	if err := Claim(filepath.Join(other, "x"), "job-b", false); err != nil {
		t.Fatal(err)
	}
	if err := Claim(other, "job-c", false); !errors.Is(err, ErrOwnedByAnotherJob) {
		t.Fatalf("a directory around another job's output: %v, want ErrOwnedByAnotherJob", err)
	}
	if err := Claim(filepath.Join(outer, "again"), "job-a", false); err != nil {
		t.Fatalf("the same job nesting its own outputs: %v", err)
	}
}
