package verify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
)

// readBufferSize is the read buffer per file; it is also the longest line
// that is parsed (longer ones are malformed).
const readBufferSize = 1 << 20

// minLineBytes is the shortest possible line, "k,c,s\n". It bounds the
// number of lines, hence the largest count a correct output can hold.
const minLineBytes = 6

// budgetFactor is the slack on the sum of the largest counts of an unbounded
// run; see checker.maxLines.
const budgetFactor = 4

// Check reads every visible file under dir and checks it as the output of a
// Verify run with keys keys and count records (count 0: unbounded). It
// returns an error only when the check cannot be done (bad arguments, an
// unreadable directory or file); faults in the output are in the Report.
func Check(dir string, keys, count int) (*Report, error) {
	if keys <= 0 {
		return nil, fmt.Errorf("verify %s: keys %d: want at least 1", dir, keys)
	}
	if count < 0 {
		return nil, fmt.Errorf("verify %s: count %d: want 0 (unbounded) or more", dir, count)
	}
	files, size, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	c := newChecker(dir, keys, count, size)
	c.report.Files = len(files)
	buf := bufio.NewReaderSize(nil, readBufferSize)
	for _, f := range files {
		if err := c.checkFile(dir, f, buf); err != nil {
			return nil, err
		}
	}
	c.finish()
	return &c.report, nil
}

// listFiles returns the visible regular files under dir, relative to it, in
// lexical order, and their total size.
func listFiles(dir string) ([]string, int64, error) {
	root, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("verify: output directory %s does not exist (is it the job's --output?)", dir)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("verify: output directory %s: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, 0, fmt.Errorf("verify: output directory %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, 0, fmt.Errorf("verify: output directory %s: not a directory", dir)
	}
	var files []string
	var size int64
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("verify: read %s: %w", path, err)
		}
		hidden := strings.HasPrefix(d.Name(), ".")
		if d.IsDir() {
			if hidden && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if hidden {
			return nil
		}
		fi, err := os.Stat(path) // follows a symlink to a file
		if err != nil {
			return fmt.Errorf("verify: stat %s: %w", path, err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return fmt.Errorf("verify: %s: %w", path, err)
		}
		files = append(files, rel)
		size += fi.Size()
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return files, size, nil
}

// checker holds the state of one Check.
type checker struct {
	report Report
	keys   uint64
	// bounded is set for count > 0; perKey and extra give n_k then.
	bounded       bool
	perKey, extra uint64
	// size is the total size of the files, and maxLines = size/minLineBytes
	// bounds the number of lines. For an unbounded run, no count of a
	// correct output exceeds maxLines, and neither does the sum over keys of
	// the largest counts. Check tolerates budgetFactor times that sum before
	// it stops recording counts, which bounds its memory by the input's size
	// without blaming a single line of a merely incomplete output.
	size, maxLines uint64
	// seen[k] has bit c-1 set once count c of key k was read. It grows to the
	// largest count read (max[k]).
	seen [][]uint64
	max  []uint64
	// sumMax is the sum of max over keys.
	sumMax uint64
}

func newChecker(dir string, keys, count int, size int64) *checker {
	c := &checker{
		report:   Report{Dir: dir, Keys: keys, Count: count, ExpectedLines: count},
		keys:     uint64(keys),
		seen:     make([][]uint64, keys),
		max:      make([]uint64, keys),
		size:     uint64(size),
		maxLines: uint64(size) / minLineBytes,
	}
	if count > 0 {
		c.bounded = true
		c.perKey, c.extra = uint64(count)/c.keys, uint64(count)%c.keys
	}
	return c
}

// lines returns n_k, the number of lines of key k in a bounded run.
func (c *checker) lines(k uint64) uint64 {
	if k < c.extra {
		return c.perKey + 1
	}
	return c.perKey
}

// checkFile reads one file line by line.
func (c *checker) checkFile(dir, name string, buf *bufio.Reader) error {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify: open %s: %w", path, err)
	}
	defer f.Close()
	buf.Reset(f)
	for lineNo := 1; ; lineNo++ {
		b, err := buf.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			c.report.Lines++
			c.malformed(name, lineNo, b, fmt.Sprintf("longer than %d bytes", readBufferSize))
			if err := skipLine(buf); err != nil {
				if err == io.EOF {
					return nil
				}
				return fmt.Errorf("verify: read %s: %w", path, err)
			}
			continue
		case err == io.EOF:
			if len(b) > 0 {
				c.report.Lines++
				c.malformed(name, lineNo, b, "no newline at end of file (torn write?)")
			}
			return nil
		case err != nil:
			return fmt.Errorf("verify: read %s: %w", path, err)
		}
		c.report.Lines++
		c.checkLine(name, lineNo, b[:len(b)-1])
	}
}

// skipLine discards the rest of an overlong line, through its newline.
func skipLine(buf *bufio.Reader) error {
	for {
		_, err := buf.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func (c *checker) malformed(file string, lineNo int, b []byte, why string) {
	c.report.Malformed++
	c.report.addProblem("%s:%d: malformed line %s: %s", file, lineNo, quote(b), why)
}

// quote shows a line in a problem, cut to a readable length.
func quote(b []byte) string {
	const maxShown = 80
	if len(b) > maxShown {
		return fmt.Sprintf("%q…", b[:maxShown])
	}
	return fmt.Sprintf("%q", b)
}

// checkLine checks one line, without its newline.
func (c *checker) checkLine(file string, lineNo int, b []byte) {
	l, err := parseLine(b)
	if err != nil {
		c.malformed(file, lineNo, b, err.Error())
		return
	}
	if l.key < 0 || uint64(l.key) >= c.keys {
		c.report.UnknownKeys++
		c.report.addProblem("%s:%d: key %d not in [0, %d) (line %s)", file, lineNo, l.key, c.keys, quote(b))
		return
	}
	k := uint64(l.key)
	if !c.inRange(file, lineNo, k, l.count) {
		return
	}
	if want := expectedSum(k, c.keys, l.count); l.sum != want {
		c.report.WrongSums++
		c.report.addProblem("%s:%d: key %d count %d: sum %d, want %d", file, lineNo, k, l.count, l.sum, want)
	}
	if c.testAndSet(k, l.count) {
		c.report.Duplicates++
		c.report.addProblem("%s:%d: key %d count %d: duplicate", file, lineNo, k, l.count)
	}
}

// inRange reports whether count can be recorded for key k, and records a
// problem if not.
func (c *checker) inRange(file string, lineNo int, k, count uint64) bool {
	if c.bounded {
		if n := c.lines(k); count == 0 || count > n {
			c.report.OutOfRange++
			c.report.addProblem("%s:%d: key %d: count %d outside 1..%d", file, lineNo, k, count, n)
			return false
		}
		return true
	}
	if count == 0 {
		c.report.OutOfRange++
		c.report.addProblem("%s:%d: key %d: count 0, want at least 1", file, lineNo, k)
		return false
	}
	if count > c.maxLines {
		c.report.OutOfRange++
		c.report.addProblem("%s:%d: key %d: count %d cannot be complete: the output's %d bytes hold at most %d lines",
			file, lineNo, k, count, c.size, c.maxLines)
		return false
	}
	if count > c.max[k] && c.sumMax-c.max[k]+count > budgetFactor*c.maxLines {
		c.report.OutOfRange++
		c.report.addProblem("%s:%d: key %d: count %d not recorded: the largest counts of all keys would add up to "+
			"more than %d times the %d lines the output's size allows", file, lineNo, k, count, budgetFactor, c.maxLines)
		return false
	}
	return true
}

// testAndSet marks count of key k as seen and reports whether it was seen
// before.
func (c *checker) testAndSet(k, count uint64) bool {
	if count > c.max[k] {
		c.sumMax += count - c.max[k]
		c.max[k] = count
		if words := int((count + 63) / 64); words > len(c.seen[k]) {
			c.seen[k] = grow(c.seen[k], words)
		}
	}
	i := count - 1
	w, bit := &c.seen[k][i/64], uint64(1)<<(i%64)
	dup := *w&bit != 0
	*w |= bit
	return dup
}

// grow extends s to at least n words, at least doubling its capacity so that
// ascending counts cost amortized O(1).
func grow(s []uint64, n int) []uint64 {
	if n <= cap(s) {
		return s[:n]
	}
	t := make([]uint64, n, max(n, 2*cap(s)))
	copy(t, s)
	return t
}

// finish counts the missing lines of every key and reports them as runs.
//
// An unbounded run still owes every key its count 1: the source emits the
// records of all keys from its first ones on, so a key with no line at all
// was lost, not merely not reached yet.
func (c *checker) finish() {
	if c.report.Lines == 0 {
		if c.report.Partitions > 0 {
			c.report.addProblem("no lines: the topic has no committed records (%d partitions); the Kafka sink commits only when a checkpoint completes",
				c.report.Partitions)
		} else {
			c.report.addProblem("no lines: the output is empty (%d files); the file sink commits only when a checkpoint completes",
				c.report.Files)
		}
	}
	if c.bounded {
		for k := range c.keys {
			c.missingRuns(k, c.lines(k))
		}
		return
	}
	c.report.ExpectedLines = 0
	for k := uint64(0); k < c.keys; {
		if c.max[k] > 0 {
			c.report.ExpectedLines += int(c.max[k])
			c.missingRuns(k, c.max[k])
			k++
			continue
		}
		// A run of keys without lines is one problem.
		lo := k
		for k < c.keys && c.max[k] == 0 {
			k++
		}
		n := int(k - lo)
		c.report.ExpectedLines += n
		c.report.Missing += n
		if n == 1 {
			c.report.addProblem("key %d: no lines (count 1 missing)", lo)
		} else {
			c.report.addProblem("keys %d..%d: no lines (%d keys, count 1 of each missing)", lo, k-1, n)
		}
	}
}

// missingRuns reports the counts in 1..want of key k that were not seen.
func (c *checker) missingRuns(k, want uint64) {
	s := c.seen[k]
	// next returns the first count ≥ from whose bit equals set, or want+1.
	next := func(from uint64, set bool) uint64 {
		for from <= want {
			i := from - 1
			if i/64 >= uint64(len(s)) {
				if set {
					return want + 1
				}
				return from
			}
			w := s[i/64]
			if !set {
				w = ^w
			}
			w >>= i % 64
			if w != 0 {
				return min(from+uint64(bits.TrailingZeros64(w)), want+1)
			}
			from += 64 - i%64
		}
		return want + 1
	}
	for from := uint64(1); from <= want; {
		lo := next(from, false)
		if lo > want {
			return
		}
		hi := next(lo, true) - 1
		n := hi - lo + 1
		c.report.Missing += int(n)
		if n == 1 {
			c.report.addProblem("key %d: count %d missing", k, lo)
		} else {
			c.report.addProblem("key %d: counts %d..%d missing (%d lines)", k, lo, hi, n)
		}
		from = hi + 1
	}
}
