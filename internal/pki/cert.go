package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"time"
)

// authority is a CA: its certificate and the key that signs with it.
type authority struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte // empty for a loaded CA, whose key file is kept as it is
}

// leaf is an issued certificate and its key.
type leaf struct {
	cert    *x509.Certificate
	certPEM []byte
	keyPEM  []byte
}

// hosts are the subject alternative names of a server certificate.
type hosts struct {
	dns []string
	ips []net.IP
}

// alwaysHosts are in every server certificate: a process reached on
// loopback, and tide's own clients on the same host, verify them.
var alwaysHosts = [...]string{"localhost", "127.0.0.1", "::1"}

// parseHosts returns alwaysHosts and extra as subject alternative names:
// each an IP address (IPv6 may be in brackets) or a DNS name (a leading
// "*." is a wildcard), without a port. Duplicates count once.
func parseHosts(extra []string) (hosts, error) {
	var h hosts
	for _, s := range append(alwaysHosts[:], extra...) {
		s = strings.TrimSpace(s)
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); ip != nil {
			if !slices.ContainsFunc(h.ips, ip.Equal) {
				h.ips = append(h.ips, ip)
			}
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(s, "."))
		if err := checkDNSName(name); err != nil {
			return hosts{}, fmt.Errorf("pki: host %q: %w", s, err)
		}
		if !slices.Contains(h.dns, name) {
			h.dns = append(h.dns, name)
		}
	}
	return h, nil
}

// checkDNSName accepts a host name of letters, digits and hyphens in
// labels of 1 to 63 characters, at most 253 in all, whose first label may
// be the wildcard "*".
func checkDNSName(name string) error {
	const want = "want a DNS name or an IP address, without a port or scheme"
	if name == "" || len(name) > 253 {
		return errors.New(want)
	}
	for i, label := range strings.Split(name, ".") {
		if label == "*" && i == 0 && strings.Contains(name, ".") {
			continue
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New(want)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return errors.New(want)
			}
		}
	}
	return nil
}

// newKey makes an ECDSA P-256 key and its PKCS #8 PEM encoding.
func newKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// serial returns a random positive 128-bit serial number.
func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	if n.Sign() == 0 {
		n.SetInt64(1) // a serial number must be positive
	}
	return n, nil
}

// keyID is the subject key identifier of pub: the leftmost 160 bits of the
// SHA-256 of its subjectPublicKey (RFC 7093, method 1).
func keyID(pub *ecdsa.PublicKey) ([]byte, error) {
	k, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("pki: key identifier: %w", err)
	}
	sum := sha256.Sum256(k.Bytes())
	return sum[:20], nil
}

// newCert makes a new key and a certificate for it from tmpl, filling in
// a random serial number and the key identifiers, signed by parent (nil:
// self-signed). what names the certificate in errors.
func newCert(what string, tmpl *x509.Certificate, parent *authority) (*x509.Certificate, *ecdsa.PrivateKey, [2][]byte, error) {
	var pems [2][]byte
	key, keyPEM, err := newKey()
	if err != nil {
		return nil, nil, pems, err
	}
	if tmpl.SerialNumber, err = serial(); err != nil {
		return nil, nil, pems, err
	}
	if tmpl.SubjectKeyId, err = keyID(&key.PublicKey); err != nil {
		return nil, nil, pems, err
	}
	signer, issuer := crypto.Signer(key), tmpl
	tmpl.AuthorityKeyId = tmpl.SubjectKeyId
	if parent != nil {
		signer, issuer, tmpl.AuthorityKeyId = parent.key, parent.cert, parent.cert.SubjectKeyId
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, pems, fmt.Errorf("pki: make %s: %w", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, pems, fmt.Errorf("pki: make %s: %w", what, err)
	}
	pems[0], pems[1] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM
	return cert, key, pems, nil
}

// newCA makes a self-signed CA valid from clockSkew before now for caYears.
func newCA(cn string, now time.Time) (*authority, error) {
	cert, key, pems, err := newCert(fmt.Sprintf("CA %q", cn), &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.AddDate(caYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}, nil)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: pems[0], keyPEM: pems[1]}, nil
}

// loadCA reads a CA certificate and its key for a renewal, and checks that
// they belong together and that the CA can still sign at now.
func loadCA(certPath, keyPath string, now time.Time) (*authority, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("pki: --renew: %w", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("pki: --renew: %s: no PEM CERTIFICATE block", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: --renew: %s: %w", certPath, err)
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: --renew: %s is not a CA certificate", certPath)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("pki: --renew: the CA %s expired at %s; --force makes new CAs", certPath, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("pki: --renew: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: --renew: %s: %w", keyPath, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("pki: --renew: %s is not the key of %s", keyPath, certPath)
	}
	return &authority{cert: cert, key: key, certPEM: certPEM}, nil
}

// parseKey decodes a PEM private key: PKCS #8, or SEC 1 (EC PRIVATE KEY).
func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q, want PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", key)
	}
	return s, nil
}

// issue makes a leaf certificate signed by ca, for the extended key usages
// eku and the names h, valid from clockSkew before now until notAfter.
func (ca *authority) issue(cn string, eku []x509.ExtKeyUsage, h hosts, now, notAfter time.Time) (*leaf, error) {
	cert, _, pems, err := newCert(fmt.Sprintf("certificate %q", cn), &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		DNSNames:              h.dns,
		IPAddresses:           h.ips,
	}, ca)
	if err != nil {
		return nil, err
	}
	return &leaf{cert: cert, certPEM: pems[0], keyPEM: pems[1]}, nil
}

// newToken returns tokenBytes random bytes as hex, and a newline.
func newToken() ([]byte, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("pki: token: %w", err)
	}
	return []byte(hex.EncodeToString(b) + "\n"), nil
}
