package pki

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/config"
)

// block returns the lines of Config's block that starts with a line
// containing start, up to the next empty line.
func block(t *testing.T, text, start string) []string {
	t.Helper()
	i := strings.Index(text, start)
	if i < 0 {
		t.Fatalf("no %q in\n%s", start, text)
	}
	b, _, _ := strings.Cut(text[i:], "\n\n")
	return strings.Split(strings.TrimSuffix(b, "\n"), "\n")
}

// shellWords has sh split the -D lines, backslash continuations and quotes
// included, as a user's shell would.
func shellWords(t *testing.T, lines []string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the -D lines")
	}
	out, err := exec.Command(sh, "-c", "printf '%s\\n' \\\n"+strings.Join(lines, "\n")).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, strings.Join(lines, "\n"))
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// wantConfig checks that c turns on everything f holds.
func wantConfig(t *testing.T, how string, c *config.Config, f *Files, clientAuth bool) {
	t.Helper()
	want := config.TLSFiles{Enabled: true, CertFile: f.InternalCert, KeyFile: f.InternalKey, CAFile: f.InternalCA}
	if c.InternalTLS != want {
		t.Errorf("%s: InternalTLS %+v, want %+v", how, c.InternalTLS, want)
	}
	want = config.TLSFiles{Enabled: true, CertFile: f.RESTCert, KeyFile: f.RESTKey, CAFile: f.RESTCA}
	if clientAuth {
		want.ClientAuth, want.ClientCertFile, want.ClientKeyFile = true, f.RESTClientCert, f.RESTClientKey
	}
	if c.RESTTLS != want {
		t.Errorf("%s: RESTTLS %+v, want %+v", how, c.RESTTLS, want)
	}
	if c.InternalTokenFile != f.InternalToken || c.RESTTokenFile != f.RESTToken {
		t.Errorf("%s: token files %q and %q, want %q and %q", how, c.InternalTokenFile, c.RESTTokenFile, f.InternalToken, f.RESTToken)
	}
}

func TestConfigLoads(t *testing.T) {
	for _, name := range []string{"secrets", "it's a dir # with: odd characters"} {
		t.Run(name, func(t *testing.T) {
			f := create(t, Options{Dir: filepath.Join(t.TempDir(), name)})
			text := f.Config()
			// Another working directory: the paths must not depend on it.
			t.Chdir(t.TempDir())

			// The -D lines: every active one ends in a backslash but the last.
			lines := block(t, text, "# -D flags")
			var flags, optional []string
			for _, l := range lines {
				switch {
				case strings.HasPrefix(l, "#   "):
					optional = append(optional, strings.TrimPrefix(l, "#   "))
				case !strings.HasPrefix(l, "#"):
					flags = append(flags, l)
				}
			}
			if len(flags) != 10 || len(optional) != 1 {
				t.Fatalf("want 10 -D lines and 1 optional line in\n%s", strings.Join(lines, "\n"))
			}
			var dynamic []string
			for _, w := range shellWords(t, flags) {
				kv, ok := strings.CutPrefix(w, "-D")
				if !ok {
					t.Fatalf("word %q is not a -D flag", w)
				}
				dynamic = append(dynamic, kv)
			}
			if len(dynamic) != 10 {
				t.Fatalf("the shell split the -D lines into %q", dynamic)
			}
			c, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dynamic})
			if err != nil {
				t.Fatal(err)
			}
			wantConfig(t, "-D", c, f, false)
			for _, w := range shellWords(t, optional) {
				kv, _ := strings.CutPrefix(w, "-D")
				dynamic = append(dynamic, kv)
			}
			c, err = config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dynamic})
			if err != nil {
				t.Fatal(err)
			}
			wantConfig(t, "-D with the optional line", c, f, true)

			// The YAML block, as config.yaml; then with the optional lines uncommented.
			yaml := block(t, text, "# Or the same in $TIDE_HOME/conf/config.yaml")
			load := func(lines []string) *config.Config {
				t.Helper()
				home := t.TempDir()
				if err := os.MkdirAll(filepath.Join(home, "conf"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(config.ConfigFile(home), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				c, err := config.Load(config.LoadOptions{Home: home})
				if err != nil {
					t.Fatalf("%v\n%s", err, strings.Join(lines, "\n"))
				}
				return c
			}
			wantConfig(t, "config.yaml", load(yaml), f, false)
			var uncommented []string
			for _, l := range yaml {
				if s, ok := strings.CutPrefix(l, "# security.ssl.rest."); ok {
					l = "security.ssl.rest." + s
				}
				uncommented = append(uncommented, l)
			}
			wantConfig(t, "config.yaml with the optional lines", load(uncommented), f, true)
		})
	}
}

func TestDynamicLoads(t *testing.T) {
	f, err := Create(Options{Dir: filepath.Join(t.TempDir(), "s")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: f.Dynamic()})
	if err != nil {
		t.Fatal(err)
	}
	wantConfig(t, "Dynamic", c, f, false)
	c, err = config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: f.InternalDynamic()})
	if err != nil {
		t.Fatal(err)
	}
	if !c.InternalTLS.Enabled || c.InternalTokenFile != f.InternalToken || c.RESTTLS.Enabled || c.RESTTokenFile != "" {
		t.Errorf("InternalDynamic: internal TLS %v, token %q, REST TLS %v, REST token %q; want the internal plane only",
			c.InternalTLS.Enabled, c.InternalTokenFile, c.RESTTLS.Enabled, c.RESTTokenFile)
	}
}
