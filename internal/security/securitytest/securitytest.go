// Package securitytest makes the TLS material and tokens that tests of
// HTTPS and bearer-token authentication need: a throwaway CA, server and
// client certificates it signs, written as PEM files, and a token file. It
// is for tests only (no product code imports it); `tide secrets create`
// has its own PKI.
package securitytest

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

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate, PEM-encoded.
	PEM []byte
}

// NewCA makes a CA valid from an hour ago for a day.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tide test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Leaf issues a certificate with serial for hosts (DNS names or IP
// addresses), good for both server and client authentication, and returns
// it and its key, PEM-encoded.
func (ca *CA) Leaf(t testing.TB, serial int64, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "tide test " + big.NewInt(serial).String()},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
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

// WriteLeaf issues Leaf(serial, hosts...) and writes it to certFile and
// keyFile, each replaced atomically (written aside, then renamed), as a
// rotation would.
func (ca *CA) WriteLeaf(t testing.TB, certFile, keyFile string, serial int64, hosts ...string) {
	t.Helper()
	c, k := ca.Leaf(t, serial, hosts...)
	WriteFile(t, certFile, c)
	WriteFile(t, keyFile, k)
}

// WriteFile writes b to path atomically, mode 0600.
func WriteFile(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Loopback are the names a server on loopback is reached by.
var Loopback = []string{"localhost", "127.0.0.1", "::1"}

// Files are the PEM files and token of a secured REST port, all in Dir.
type Files struct {
	Dir string
	// CA is the CA's certificate.
	CA string
	// Cert and Key are the server's, serial 2, for Loopback.
	Cert, Key string
	// ClientCert and ClientKey are a client's, serial 3, signed by the CA.
	ClientCert, ClientKey string
	// TokenFile holds Token.
	TokenFile, Token string
	ca               *CA
}

// REST writes a CA, a server certificate, a client certificate and a
// token file into dir.
func REST(t testing.TB, dir string) Files {
	t.Helper()
	ca := NewCA(t)
	f := Files{Dir: dir, ca: ca,
		CA:   filepath.Join(dir, "ca.pem"),
		Cert: filepath.Join(dir, "rest.pem"), Key: filepath.Join(dir, "rest-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"),
		TokenFile: filepath.Join(dir, "rest.token"), Token: "test-token-" + rand.Text(),
	}
	WriteFile(t, f.CA, ca.PEM)
	ca.WriteLeaf(t, f.Cert, f.Key, 2, Loopback...)
	ca.WriteLeaf(t, f.ClientCert, f.ClientKey, 3, "tide client")
	WriteFile(t, f.TokenFile, []byte(f.Token+"\n"))
	return f
}

// Issuer is the CA that signed the files.
func (f Files) Issuer() *CA { return f.ca }

// Dynamic are the -D values (without -D) that turn on HTTPS, the token
// and, when clientAuth, client certificates, with these files; Tide's own
// clients present the client certificate.
func (f Files) Dynamic(clientAuth bool) []string {
	d := []string{
		"security.ssl.rest.enabled=true",
		"security.ssl.rest.cert-file=" + f.Cert,
		"security.ssl.rest.key-file=" + f.Key,
		"security.ssl.rest.ca-file=" + f.CA,
		"rest.auth.token-file=" + f.TokenFile,
	}
	if clientAuth {
		d = append(d, "security.ssl.rest.authentication-enabled=true",
			"security.ssl.rest.client-cert-file="+f.ClientCert,
			"security.ssl.rest.client-key-file="+f.ClientKey)
	}
	return d
}
