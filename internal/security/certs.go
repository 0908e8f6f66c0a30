package security

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// reloadCheck is how often, at most, a Certs reads its files again to see
// whether they changed: once per second of handshakes, never without one.
const reloadCheck = time.Second

// Certs is a certificate, its key and a CA bundle read from PEM files, read
// again when they change on disk (Kubernetes rotates a mounted Secret by
// swapping a symlink; cert-manager rewrites files). A handshake checks, at
// most once a second, whether the files' bytes changed; a new set that does
// not parse, or whose key does not match its certificate, is logged and the
// old one kept, so that a rotation caught half-written never breaks the
// cluster. Connections made before a rotation keep the certificates they
// were made with. Safe for concurrent use.
type Certs struct {
	certFile, keyFile, caFile string
	log                       *slog.Logger
	now                       func() time.Time

	mu struct {
		sync.Mutex
		checked time.Time
		raw     [3][]byte // cert, key, ca as last read
		pair    *tls.Certificate
		pool    *x509.CertPool
	}
}

// LoadCerts reads the files: the certificate (chain) and key this process
// presents, and caFile, the CAs its peers' certificates must chain to
// (empty: none; then Pool is nil). The first read must succeed.
func LoadCerts(certFile, keyFile, caFile string, log *slog.Logger) (*Certs, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Certs{certFile: certFile, keyFile: keyFile, caFile: caFile, log: log, now: time.Now}
	raw, err := c.read()
	if err != nil {
		return nil, err
	}
	pair, pool, err := c.parse(raw)
	if err != nil {
		return nil, err
	}
	c.mu.raw, c.mu.pair, c.mu.pool, c.mu.checked = raw, pair, pool, c.now()
	return c, nil
}

// read returns the bytes of the three files.
func (c *Certs) read() ([3][]byte, error) {
	var raw [3][]byte
	for i, f := range []string{c.certFile, c.keyFile, c.caFile} {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return raw, fmt.Errorf("security: read %s: %w", f, err)
		}
		raw[i] = b
	}
	return raw, nil
}

// parse checks and parses what read returned.
func (c *Certs) parse(raw [3][]byte) (*tls.Certificate, *x509.CertPool, error) {
	var pair *tls.Certificate
	if c.certFile != "" || c.keyFile != "" {
		p, err := tls.X509KeyPair(raw[0], raw[1])
		if err != nil {
			return nil, nil, fmt.Errorf("security: certificate %s with key %s: %w", c.certFile, c.keyFile, err)
		}
		pair = &p
	}
	var pool *x509.CertPool
	if c.caFile != "" {
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(raw[2]) {
			return nil, nil, fmt.Errorf("security: %s holds no PEM certificate", c.caFile)
		}
	}
	return pair, pool, nil
}

// current returns the certificate and pool, reading the files again first
// when the last check is more than reloadCheck old.
func (c *Certs) current() (*tls.Certificate, *x509.CertPool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.mu.checked) < reloadCheck {
		return c.mu.pair, c.mu.pool
	}
	c.mu.checked = now
	raw, err := c.read()
	if err != nil {
		c.log.Warn("cannot read the certificates again; keeping the ones loaded", "err", err)
		return c.mu.pair, c.mu.pool
	}
	if bytes.Equal(raw[0], c.mu.raw[0]) && bytes.Equal(raw[1], c.mu.raw[1]) && bytes.Equal(raw[2], c.mu.raw[2]) {
		return c.mu.pair, c.mu.pool
	}
	pair, pool, err := c.parse(raw)
	if err != nil {
		// Half a rotation (a new certificate, the old key): try again at the
		// next check, keep serving the old pair meanwhile.
		c.log.Warn("the certificate files changed but do not load; keeping the ones loaded", "err", err)
		return c.mu.pair, c.mu.pool
	}
	c.mu.raw, c.mu.pair, c.mu.pool = raw, pair, pool
	c.log.Info("reloaded certificates", "cert", c.certFile, "ca", c.caFile, describe(pair))
	return pair, pool
}

// describe is the log attribute naming a certificate by serial and expiry.
func describe(pair *tls.Certificate) slog.Attr {
	if pair == nil || len(pair.Certificate) == 0 {
		return slog.Group("certificate")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return slog.Group("certificate")
	}
	return slog.Group("certificate", "serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
}

// Pair returns the current certificate and key.
func (c *Certs) Pair() *tls.Certificate {
	pair, _ := c.current()
	return pair
}

// Pool returns the current CA pool (nil when no ca file was given).
func (c *Certs) Pool() *x509.CertPool {
	_, pool := c.current()
	return pool
}

// verifyChain checks that the peer's chain leads to a CA of pool, for usage.
// It checks no host name: on the internal plane a certificate signed by the
// cluster's CA is what makes a process a member, wherever it runs.
func verifyChain(pool *x509.CertPool, rawCerts [][]byte, usage x509.ExtKeyUsage) error {
	if len(rawCerts) == 0 {
		return errors.New("the peer presented no certificate")
	}
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, raw := range rawCerts {
		cert, err := x509.ParseCertificate(raw)
		if err != nil {
			return fmt.Errorf("the peer's certificate does not parse: %w", err)
		}
		certs[i] = cert
	}
	inter := x509.NewCertPool()
	for _, cert := range certs[1:] {
		inter.AddCert(cert)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return fmt.Errorf("the peer's certificate (subject %q) is not one of this cluster's: %w: %w", certs[0].Subject.String(), ErrRefused, err)
	}
	return nil
}

// internalServerTLS is the TLS configuration of an internal listener:
// TLS 1.3, the current certificate, and a client certificate the current CA
// pool signed demanded.
func (c *Certs) internalServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{internalProto},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			pair, pool := c.current()
			return &tls.Config{
				MinVersion:       tls.VersionTLS13,
				NextProtos:       []string{internalProto},
				Certificates:     []tls.Certificate{*pair},
				ClientAuth:       tls.RequireAndVerifyClientCert,
				ClientCAs:        pool,
				VerifyConnection: requireProto,
			}, nil
		},
	}
}

// internalClientTLS is the TLS configuration of an internal dial: TLS 1.3,
// the current certificate presented, and the server's chain checked against
// the current CA pool (no host name: see verifyChain).
func (c *Certs) internalClientTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{internalProto},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return c.Pair(), nil
		},
		// The standard check wants a host name; the internal plane checks the
		// chain only, in VerifyConnection, against the pool of the moment.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if err := requireProto(cs); err != nil {
				return err
			}
			raw := make([][]byte, len(cs.PeerCertificates))
			for i, cert := range cs.PeerCertificates {
				raw[i] = cert.Raw
			}
			return verifyChain(c.Pool(), raw, x509.ExtKeyUsageServerAuth)
		},
	}
}

// requireProto refuses a peer that did not agree on internalProto: a client
// that offers no ALPN protocol at all completes a handshake otherwise.
func requireProto(cs tls.ConnectionState) error {
	if cs.NegotiatedProtocol != internalProto {
		return fmt.Errorf("the peer does not speak %s (ALPN %q): %w", internalProto, cs.NegotiatedProtocol, ErrRefused)
	}
	return nil
}

// internalProto is the ALPN protocol of the internal plane: a TLS client of
// another protocol (a browser, an HTTPS probe) is refused in the handshake.
const internalProto = "tide-internal/1"
