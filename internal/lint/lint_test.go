package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, two levels up.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s", dir)
	}
	return dir
}

// files parses the non-test Go files under dir (recursively).
func files(t *testing.T, dir string) map[string]*ast.File {
	t.Helper()
	out := map[string]*ast.File{}
	fset := token.NewFileSet()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		out[path] = f
		return nil
	})
	return out
}

// calls reports every call of pkg.name (by import path) in f.
func calls(f *ast.File, importPath string, names ...string) []string {
	local := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != importPath {
			continue
		}
		local = filepath.Base(p)
		if imp.Name != nil {
			local = imp.Name.Name
		}
	}
	if local == "" {
		return nil
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
			for _, name := range names {
				if sel.Sel.Name == name || name == "*" {
					found = append(found, local+"."+sel.Sel.Name)
				}
			}
		}
		return true
	})
	return found
}

func imports(f *ast.File, importPath string) bool {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == importPath {
			return true
		}
	}
	return false
}

// cores are the pure protocol packages: time is an input, IO is the shell's.
var cores = []string{"scheduler", "checkpoint", "slotpool", "heartbeat", "keygroup", "plan", "state", "timers", "autoscaler"}

func TestCoresArePure(t *testing.T) {
	r := root(t)
	for _, core := range cores {
		for path, f := range files(t, filepath.Join(r, "internal", core)) {
			for _, c := range calls(f, "time", "Now", "Sleep", "After", "Tick", "NewTimer", "NewTicker", "Since", "Until") {
				t.Errorf("%s: %s in a core package: take time as an input (Tick(now))", path, c)
			}
			for _, c := range calls(f, "math/rand", "*") {
				t.Errorf("%s: %s: cores take a seeded source, never the global one", path, c)
			}
			for _, c := range calls(f, "math/rand/v2", "*") {
				t.Errorf("%s: %s: cores take a seeded source, never the global one", path, c)
			}
			for _, p := range []string{"net", "net/http", "os", "github.com/tide-stream/tide/internal/network",
				"github.com/tide-stream/tide/internal/blob", "google.golang.org/grpc"} {
				if imports(f, p) {
					t.Errorf("%s imports %s: a core package does no IO", path, p)
				}
			}
		}
	}
}

// TestTypedAtomics enforces typed atomics (atomic.Int64), as pebble does.
func TestTypedAtomics(t *testing.T) {
	for path, f := range files(t, root(t)) {
		for _, c := range calls(f, "sync/atomic", "AddInt32", "AddInt64", "AddUint32", "AddUint64", "LoadInt32",
			"LoadInt64", "LoadUint32", "LoadUint64", "StoreInt32", "StoreInt64", "StoreUint32", "StoreUint64",
			"CompareAndSwapInt32", "CompareAndSwapInt64", "SwapInt32", "SwapInt64") {
			t.Errorf("%s: %s: use the typed atomics (atomic.Int64, ...)", path, c)
		}
	}
}

// TestOnlyCommandsPrint keeps fmt.Print* out of library code: components
// log through an injected *slog.Logger or write to an io.Writer they are given.
func TestOnlyCommandsPrint(t *testing.T) {
	r := root(t)
	for _, dir := range []string{"internal", "stream", "codec", "examples", "tidetest"} {
		for path, f := range files(t, filepath.Join(r, dir)) {
			if strings.Contains(path, string(filepath.Separator)+"cli"+string(filepath.Separator)) {
				continue
			}
			for _, c := range calls(f, "fmt", "Print", "Printf", "Println") {
				t.Errorf("%s: %s outside the command line", path, c)
			}
			for _, c := range calls(f, "log", "Print", "Printf", "Println", "Fatal", "Fatalf") {
				t.Errorf("%s: %s: log through an injected *slog.Logger", path, c)
			}
		}
	}
}
