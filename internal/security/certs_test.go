package security

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/security/securitytest"
)

// writeFiles writes a leaf of ca into dir as cert.pem, key.pem and ca.pem,
// and returns their paths.
func writeFiles(t *testing.T, dir string, ca *securitytest.CA, serial int64) (cert, key, caFile string) {
	t.Helper()
	c, k := ca.Leaf(t, serial, securitytest.Loopback...)
	cert, key, caFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for f, b := range map[string][]byte{cert: c, key: k, caFile: ca.PEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, caFile
}

func loadTestCerts(t *testing.T, ca *securitytest.CA, serial int64) *Certs {
	t.Helper()
	cert, key, caFile := writeFiles(t, t.TempDir(), ca, serial)
	c, err := LoadCerts(cert, key, caFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func serialOf(c *Certs) int64 {
	leaf, _ := x509.ParseCertificate(c.Pair().Certificate[0])
	return leaf.SerialNumber.Int64()
}

func TestCertsReloadWhenTheFilesChange(t *testing.T) {
	ca := securitytest.NewCA(t)
	dir := t.TempDir()
	cert, key, caFile := writeFiles(t, dir, ca, 1)
	c, err := LoadCerts(cert, key, caFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }

	writeFiles(t, dir, ca, 2)
	if got := serialOf(c); got != 1 {
		t.Fatalf("serial %d within a second of the last check, want the old 1", got)
	}
	now = now.Add(reloadCheck)
	if got := serialOf(c); got != 2 {
		t.Fatalf("serial %d after the files changed, want 2", got)
	}

	// Half a rotation: a new certificate with the old key keeps the old pair.
	c3, _ := ca.Leaf(t, 3)
	if err := os.WriteFile(cert, c3, 0o600); err != nil {
		t.Fatal(err)
	}
	now = now.Add(reloadCheck)
	if got := serialOf(c); got != 2 {
		t.Fatalf("serial %d after a certificate that does not match its key, want the old 2", got)
	}
	// Files that vanish keep the old pair too.
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	now = now.Add(reloadCheck)
	if got := serialOf(c); got != 2 {
		t.Fatalf("serial %d with the key gone, want the old 2", got)
	}
}

func TestLoadCertsErrors(t *testing.T) {
	ca := securitytest.NewCA(t)
	dir := t.TempDir()
	cert, key, caFile := writeFiles(t, dir, ca, 1)
	if _, err := LoadCerts(cert, filepath.Join(dir, "missing.pem"), caFile, nil); err == nil {
		t.Error("a missing key loaded")
	}
	if err := os.WriteFile(caFile, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCerts(cert, key, caFile, nil); err == nil {
		t.Error("a CA file without certificates loaded")
	}
}
