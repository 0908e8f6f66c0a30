package checkpointstore

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSplitLocation: a savepoint location (execution.savepoint.path, or a
// location the REST API reported) splits into a storage URL and a key
// "<job>/chk-<n>" whose job part is one plain name, or is refused.
func FuzzSplitLocation(f *testing.F) {
	for _, s := range []string{
		"file:///sp/abc/chk-4", "file:///sp/abc/chk-4/_metadata", "/sp/x/abc/chk-4", "/abc/chk-4",
		"s3://bucket/sp/abc/chk-12?region=eu", "file:///sp/../chk-4", "file:///sp/./chk-4", "file:///sp/%2e%2e/chk-4",
		"file://./rel/abc/chk-1", "mem:///a/b/chk-1#frag", "file:///sp//chk-4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		root, key, err := SplitLocation(loc)
		if err != nil {
			return
		}
		job, name, ok := strings.Cut(key, "/")
		if !ok || job == "" || job == "." || job == ".." || strings.Contains(name, "/") || !strings.HasPrefix(name, chkPrefix) {
			t.Fatalf("SplitLocation(%q) = %q, %q: the key is not <job>/chk-<n>", loc, root, key)
		}
		if u, err := url.Parse(root); err != nil || u.Scheme == "" {
			t.Fatalf("SplitLocation(%q) = %q, %q: the root is not a URL (%v)", loc, root, key, err)
		}
	})
}

// FuzzTargetURL: a savepoint's target directory, as a REST client sends
// it, is a URL with a scheme or refused, and TargetURL of the result is
// the result.
func FuzzTargetURL(f *testing.F) {
	for _, s := range []string{"/sp/", "file:///sp", "s3://b/sp/", "sp", "./sp", "c:x", "/", "//", "file://./x", "mem://", "file:///x?create_dir=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dir string) {
		got, err := TargetURL(dir)
		if err != nil {
			return
		}
		if u, err := url.Parse(got); err != nil || u.Scheme == "" {
			t.Fatalf("TargetURL(%q) = %q, not a URL (%v)", dir, got, err)
		}
		if again, err := TargetURL(got); err != nil || again != got {
			t.Fatalf("TargetURL(%q) = %q, and TargetURL of that = %q, %v", dir, got, again, err)
		}
	})
}
