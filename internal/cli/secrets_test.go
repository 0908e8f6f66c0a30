package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/config"
)

// secretFiles are the files `tide secrets create` writes, relative to --dir.
var secretFiles = []string{"internal-ca.pem", "internal.pem", "internal-key.pem", "internal.token",
	"rest-ca.pem", "rest.pem", "rest-key.pem", "rest-client.pem", "rest-client-key.pem", "rest.token",
	"private/internal-ca-key.pem", "private/rest-ca-key.pem"}

func readSecrets(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, name := range secretFiles {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
	}
	return m
}

func parseCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSecretsCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	start := time.Now()
	code, stdout, stderr := runApp(t, "secrets", "create", "--dir", dir, "--host", "10.0.0.5", "--host", "tide-jobmanager", "--validity", "30d")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}

	// Every file is listed with its absolute path, and exists.
	wrote, _, ok := strings.Cut(stdout, "\n\n")
	if !ok || !strings.HasPrefix(wrote, "Wrote:\n") {
		t.Fatalf("output does not start with the files written:\n%s", stdout)
	}
	for _, name := range secretFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if !strings.Contains(wrote, "\n  "+p+" ") {
			t.Errorf("the output does not list %s:\n%s", p, wrote)
		}
	}
	secrets := readSecrets(t, dir)

	// The printed -D lines load, and point at the files written.
	var dynamic []string
	for _, l := range strings.Split(stdout, "\n") {
		if kv, ok := strings.CutPrefix(l, "-D"); ok {
			dynamic = append(dynamic, strings.TrimSuffix(kv, " \\"))
		}
	}
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dynamic})
	if err != nil {
		t.Fatalf("the printed -D lines %q: %v", dynamic, err)
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	if want := (config.TLSFiles{Enabled: true, CertFile: at("internal.pem"), KeyFile: at("internal-key.pem"), CAFile: at("internal-ca.pem")}); conf.InternalTLS != want {
		t.Errorf("InternalTLS %+v, want %+v", conf.InternalTLS, want)
	}
	if want := (config.TLSFiles{Enabled: true, CertFile: at("rest.pem"), KeyFile: at("rest-key.pem"), CAFile: at("rest-ca.pem")}); conf.RESTTLS != want {
		t.Errorf("RESTTLS %+v, want %+v", conf.RESTTLS, want)
	}
	if conf.InternalTokenFile != at("internal.token") || conf.RESTTokenFile != at("rest.token") {
		t.Errorf("token files %q, %q", conf.InternalTokenFile, conf.RESTTokenFile)
	}
	if !strings.Contains(stdout, "\n# Or the same in $TIDE_HOME/conf/config.yaml:\nsecurity.ssl.internal.enabled: true\n") {
		t.Errorf("no config.yaml block in:\n%s", stdout)
	}
	kube := "\nKubernetes: kubectl create secret generic tide-secrets --from-file=" + dir + " ("
	if !strings.Contains(stdout, kube) || !strings.HasSuffix(stdout, ")\n") {
		t.Errorf("the output does not end with %q:\n%s", kube, stdout)
	}

	// The flags reached the certificates.
	c := parseCertFile(t, at("rest.pem"))
	if !slices.Contains(c.DNSNames, "tide-jobmanager") || !slices.ContainsFunc(c.IPAddresses, net.ParseIP("10.0.0.5").Equal) {
		t.Errorf("rest.pem names %v %v, want tide-jobmanager and 10.0.0.5", c.DNSNames, c.IPAddresses)
	}
	if end := start.Add(30 * 24 * time.Hour); c.NotAfter.Before(end.Add(-time.Minute)) || c.NotAfter.After(end.Add(time.Minute)) {
		t.Errorf("rest.pem valid until %v, want 30 days from %v", c.NotAfter, start)
	}

	// Again: refused, nothing changes.
	code, stdout, stderr = runApp(t, "secrets", "create", "--dir", dir)
	if code != 1 || stdout != "" || !strings.Contains(stderr, at("internal-ca.pem")) || !strings.Contains(stderr, "--renew") || !strings.Contains(stderr, "--force") {
		t.Errorf("a second create: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for name, b := range readSecrets(t, dir) {
		if !bytes.Equal(b, secrets[name]) {
			t.Errorf("a refused create changed %s", name)
		}
	}

	// --renew: new certificates from the same CAs, the same tokens.
	code, stdout, stderr = runApp(t, "secrets", "create", "--dir", dir, "--renew")
	if code != 0 {
		t.Fatalf("--renew: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Kept:\n  "+at("internal-ca.pem")) || !strings.Contains(stdout, "--dry-run=client -o yaml | kubectl apply -f -") {
		t.Errorf("--renew output:\n%s", stdout)
	}
	renewed := readSecrets(t, dir)
	for _, name := range secretFiles {
		kept := slices.Contains([]string{"internal-ca.pem", "rest-ca.pem", "internal.token", "rest.token",
			"private/internal-ca-key.pem", "private/rest-ca-key.pem"}, name)
		if same := bytes.Equal(renewed[name], secrets[name]); same != kept {
			t.Errorf("--renew: %s unchanged %v, want %v", name, same, kept)
		}
	}
	if _, err := parseCertFile(t, at("internal.pem")).Verify(x509.VerifyOptions{Roots: poolOf(t, at("internal-ca.pem")),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the renewed internal.pem: %v", err)
	}
}

func poolOf(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(parseCertFile(t, path))
	return p
}

func TestSecretsCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `required flag(s) "dir" not set`},
		{[]string{"--dir", dir, "--validity", "365"}, "a number without a unit is milliseconds"},
		{[]string{"--dir", dir, "--validity", "a year"}, "--validity: parse duration"},
		{[]string{"--dir", dir, "--host", "tide:8081"}, `host "tide:8081"`},
		{[]string{"--dir", dir, "--renew", "--force"}, "[renew force]"},
		{[]string{"--dir", dir, "--renew"}, "has no internal-ca.pem"},
	} {
		code, stdout, stderr := runApp(t, append([]string{"secrets", "create"}, tc.args...)...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("refused commands left %v (%v)", entries, err)
	}
}
