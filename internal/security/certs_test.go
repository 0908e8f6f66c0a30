package security

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf's certificate and key PEM, for server and client use.
func (ca *testCA) issue(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "tide-internal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// writeFiles writes a leaf of ca into dir as cert.pem, key.pem and ca.pem,
// and returns their paths.
func writeFiles(t *testing.T, dir string, ca *testCA, serial int64) (cert, key, caFile string) {
	t.Helper()
	c, k := ca.issue(t, serial)
	cert, key, caFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for f, b := range map[string][]byte{cert: c, key: k, caFile: ca.pem} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, caFile
}

func loadTestCerts(t *testing.T, ca *testCA, serial int64) *Certs {
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
	ca := newTestCA(t, "ca")
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
	c3, _ := ca.issue(t, 3)
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
	ca := newTestCA(t, "ca")
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
