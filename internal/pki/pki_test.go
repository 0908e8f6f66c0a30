package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// t0 is the tests' clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// create runs Create in a fresh directory (not yet existing) at t0.
func create(t *testing.T, o Options) *Files {
	t.Helper()
	if o.Dir == "" {
		o.Dir = filepath.Join(t.TempDir(), "secrets")
	}
	if o.Now == nil {
		o.Now = at(t0)
	}
	f, err := Create(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: want exactly one PEM CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pool(t *testing.T, caPath string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(readCert(t, caPath))
	return p
}

func pair(t *testing.T, cert, key string) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChainsVerify(t *testing.T) {
	f := create(t, Options{Hosts: []string{"10.0.0.5", "tide-jobmanager"}})
	internalCA, restCA := pool(t, f.InternalCA), pool(t, f.RESTCA)
	now := t0.Add(time.Hour)
	verify := func(cert string, roots *x509.CertPool, eku x509.ExtKeyUsage, name string) error {
		_, err := readCert(t, cert).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{eku},
			CurrentTime: now, DNSName: name})
		return err
	}
	for _, tc := range []struct {
		what  string
		cert  string
		roots *x509.CertPool
		eku   x509.ExtKeyUsage
		name  string
		ok    bool
	}{
		{"internal as server", f.InternalCert, internalCA, x509.ExtKeyUsageServerAuth, "localhost", true},
		{"internal as server by IP", f.InternalCert, internalCA, x509.ExtKeyUsageServerAuth, "10.0.0.5", true},
		{"internal as client", f.InternalCert, internalCA, x509.ExtKeyUsageClientAuth, "", true},
		{"internal against the REST CA", f.InternalCert, restCA, x509.ExtKeyUsageClientAuth, "", false},
		{"internal against the REST CA as server", f.InternalCert, restCA, x509.ExtKeyUsageServerAuth, "localhost", false},
		{"REST server", f.RESTCert, restCA, x509.ExtKeyUsageServerAuth, "tide-jobmanager", true},
		{"REST server by ::1", f.RESTCert, restCA, x509.ExtKeyUsageServerAuth, "::1", true},
		{"REST server for another name", f.RESTCert, restCA, x509.ExtKeyUsageServerAuth, "elsewhere.example", false},
		{"REST server as a client", f.RESTCert, restCA, x509.ExtKeyUsageClientAuth, "", false},
		{"REST server against the internal CA", f.RESTCert, internalCA, x509.ExtKeyUsageServerAuth, "localhost", false},
		{"REST client", f.RESTClientCert, restCA, x509.ExtKeyUsageClientAuth, "", true},
		{"REST client as a server", f.RESTClientCert, restCA, x509.ExtKeyUsageServerAuth, "", false},
		{"REST client against the internal CA", f.RESTClientCert, internalCA, x509.ExtKeyUsageClientAuth, "", false},
	} {
		err := verify(tc.cert, tc.roots, tc.eku, tc.name)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.what, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: verified, want refused", tc.what)
		}
	}
	// The leaves expire after the default validity, the CAs after 10 years.
	if err := verify(f.InternalCert, internalCA, x509.ExtKeyUsageClientAuth, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := readCert(t, f.InternalCert).Verify(x509.VerifyOptions{Roots: internalCA,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: t0.Add(DefaultValidity + time.Second)}); err == nil {
		t.Error("the internal certificate verifies after its validity")
	}
}

// handshake runs a TLS handshake over a pipe and sends one byte from the
// server to the client; it returns each side's error.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	sc, cc := net.Pipe()
	done := make(chan error, 1)
	go func() { // owner: this function, which reads done
		s := tls.Server(sc, server)
		defer s.Close()
		err := s.Handshake()
		if err == nil {
			_, err = s.Write([]byte("x"))
		}
		done <- err
	}()
	c := tls.Client(cc, client)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	clientErr = c.Handshake()
	if clientErr == nil {
		var b [1]byte
		if _, clientErr = io.ReadFull(c, b[:]); clientErr == nil && b[0] != 'x' {
			clientErr = errors.New("read a wrong byte")
		}
	}
	cc.Close()
	return <-done, clientErr
}

func TestMutualTLS(t *testing.T) {
	f := create(t, Options{})
	internalCA := pool(t, f.InternalCA)
	member := pair(t, f.InternalCert, f.InternalKey)
	server := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{member},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: internalCA}
	// Real time: the certificates were made at t0, before now; they are
	// valid for a year from then, so pick the clock explicitly.
	server.Time = at(t0.Add(time.Hour))
	// The client presents its certificate whatever CAs the server names as
	// acceptable (Go's client would otherwise send none), as an attacker would.
	clientWith := func(certs ...tls.Certificate) *tls.Config {
		return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: internalCA, ServerName: "localhost", Time: at(t0.Add(time.Hour)),
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if len(certs) == 0 {
					return &tls.Certificate{}, nil
				}
				return &certs[0], nil
			}}
	}

	if serr, cerr := handshake(t, server, clientWith(member)); serr != nil || cerr != nil {
		t.Fatalf("two holders of internal.pem: server %v, client %v", serr, cerr)
	}

	restClient := pair(t, f.RESTClientCert, f.RESTClientKey)
	serr, cerr := handshake(t, server, clientWith(restClient))
	if serr == nil || cerr == nil {
		t.Fatalf("the REST client certificate joined the internal plane: server %v, client %v", serr, cerr)
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(serr, &unknown) && !strings.Contains(serr.Error(), "unknown authority") {
		t.Errorf("server refused the REST client certificate with %v, want an unknown authority", serr)
	}

	if serr, cerr := handshake(t, server, clientWith()); serr == nil || cerr == nil {
		t.Fatalf("a client without a certificate joined the internal plane: server %v, client %v", serr, cerr)
	}

	// A REST server certificate cannot serve the internal plane either.
	restServer := server.Clone()
	restServer.Certificates = []tls.Certificate{pair(t, f.RESTCert, f.RESTKey)}
	if serr, cerr := handshake(t, restServer, clientWith(member)); serr == nil || cerr == nil {
		t.Fatalf("a client accepted the REST certificate on the internal plane: server %v, client %v", serr, cerr)
	}
}

func TestSubjectAltNames(t *testing.T) {
	f := create(t, Options{Hosts: []string{"10.0.0.5", "Tide-JobManager.tide.svc.", "[fd00::1]", " localhost ", "*.tide.example", "10.0.0.5"}})
	wantDNS := []string{"localhost", "tide-jobmanager.tide.svc", "*.tide.example"}
	wantIP := []string{"127.0.0.1", "::1", "10.0.0.5", "fd00::1"}
	for _, p := range []string{f.InternalCert, f.RESTCert} {
		c := readCert(t, p)
		if !slices.Equal(c.DNSNames, wantDNS) {
			t.Errorf("%s: DNS names %v, want %v", p, c.DNSNames, wantDNS)
		}
		var ips []string
		for _, ip := range c.IPAddresses {
			ips = append(ips, ip.String())
		}
		if !slices.Equal(ips, wantIP) {
			t.Errorf("%s: IP addresses %v, want %v", p, ips, wantIP)
		}
	}
	if c := readCert(t, f.RESTClientCert); len(c.DNSNames)+len(c.IPAddresses) != 0 {
		t.Errorf("the REST client certificate names hosts: %v %v", c.DNSNames, c.IPAddresses)
	}

	for _, bad := range []string{"tide:8081", "https://tide", "", "a_b", "-x", "a..b", "*", "x.*.example", strings.Repeat("a", 64)} {
		_, err := Create(Options{Dir: filepath.Join(t.TempDir(), "s"), Hosts: []string{bad}})
		if err == nil || !strings.Contains(err.Error(), "DNS name or an IP address") {
			t.Errorf("host %q: err %v, want a refusal", bad, err)
		}
	}
}

func TestCertificateFields(t *testing.T) {
	validity := 30 * 24 * time.Hour
	f := create(t, Options{Validity: validity})
	serials := map[string]bool{}
	cas := map[string]*x509.Certificate{}
	for _, tc := range []struct {
		path, cn string
		ca       string // the issuer's certificate; "" for a CA
		eku      []x509.ExtKeyUsage
	}{
		{f.InternalCA, internalCACN, "", nil},
		{f.RESTCA, restCACN, "", nil},
		{f.InternalCert, internalCN, f.InternalCA, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{f.RESTCert, restCN, f.RESTCA, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		{f.RESTClientCert, restClientCN, f.RESTCA, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	} {
		c := readCert(t, tc.path)
		if c.Subject.CommonName != tc.cn {
			t.Errorf("%s: CN %q, want %q", tc.path, c.Subject.CommonName, tc.cn)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
			t.Errorf("%s: serial %v is not a random positive 128-bit number", tc.path, c.SerialNumber)
		}
		if serials[c.SerialNumber.String()] {
			t.Errorf("%s: serial %v repeats", tc.path, c.SerialNumber)
		}
		serials[c.SerialNumber.String()] = true
		if !c.NotBefore.Equal(t0.Add(-5 * time.Minute)) {
			t.Errorf("%s: NotBefore %v, want five minutes before %v", tc.path, c.NotBefore, t0)
		}
		pub, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s: public key %T, want ECDSA P-256", tc.path, c.PublicKey)
		}
		if len(c.SubjectKeyId) != 20 {
			t.Errorf("%s: subject key id %x", tc.path, c.SubjectKeyId)
		}
		if !c.BasicConstraintsValid {
			t.Errorf("%s: no basic constraints", tc.path)
		}
		if tc.ca == "" {
			cas[tc.path] = c
			if !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero {
				t.Errorf("%s: IsCA %v MaxPathLen %d MaxPathLenZero %v, want a CA that signs only leaves", tc.path, c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
			}
			if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
				t.Errorf("%s: key usage %v", tc.path, c.KeyUsage)
			}
			if !bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId) {
				t.Errorf("%s: authority key id %x, want its own %x", tc.path, c.AuthorityKeyId, c.SubjectKeyId)
			}
			if want := t0.AddDate(10, 0, 0); !c.NotAfter.Equal(want) {
				t.Errorf("%s: NotAfter %v, want %v", tc.path, c.NotAfter, want)
			}
			if err := c.CheckSignatureFrom(c); err != nil {
				t.Errorf("%s: not self-signed: %v", tc.path, err)
			}
			continue
		}
		ca := cas[tc.ca]
		if c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(c.ExtKeyUsage, tc.eku) {
			t.Errorf("%s: IsCA %v, key usage %v, extended %v; want a leaf for %v", tc.path, c.IsCA, c.KeyUsage, c.ExtKeyUsage, tc.eku)
		}
		if !bytes.Equal(c.AuthorityKeyId, ca.SubjectKeyId) || bytes.Equal(c.SubjectKeyId, ca.SubjectKeyId) {
			t.Errorf("%s: key ids subject %x authority %x, CA's %x", tc.path, c.SubjectKeyId, c.AuthorityKeyId, ca.SubjectKeyId)
		}
		if want := t0.Add(validity); !c.NotAfter.Equal(want) {
			t.Errorf("%s: NotAfter %v, want %v", tc.path, c.NotAfter, want)
		}
		if err := c.CheckSignatureFrom(ca); err != nil {
			t.Errorf("%s: not signed by %s: %v", tc.path, tc.ca, err)
		}
	}
	if !f.NotAfter.Equal(t0.Add(validity)) || !f.CANotAfter.Equal(t0.AddDate(10, 0, 0)) {
		t.Errorf("Files: NotAfter %v, CANotAfter %v", f.NotAfter, f.CANotAfter)
	}
	// Each key belongs to its certificate, the CAs' too.
	pair(t, f.InternalCert, f.InternalKey)
	pair(t, f.RESTCert, f.RESTKey)
	pair(t, f.RESTClientCert, f.RESTClientKey)
	pair(t, f.InternalCA, f.InternalCAKey)
	pair(t, f.RESTCA, f.RESTCAKey)
}

func TestFiles(t *testing.T) {
	f := create(t, Options{})
	want := map[string]os.FileMode{
		"internal-ca.pem": 0o644, "internal.pem": 0o644, "internal-key.pem": 0o600, "internal.token": 0o600,
		"rest-ca.pem": 0o644, "rest.pem": 0o644, "rest-key.pem": 0o600, "rest-client.pem": 0o644,
		"rest-client-key.pem": 0o600, "rest.token": 0o600,
		"private/internal-ca-key.pem": 0o600, "private/rest-ca-key.pem": 0o600,
	}
	if !filepath.IsAbs(f.Dir) {
		t.Errorf("Dir %q is not absolute", f.Dir)
	}
	for _, p := range []string{f.Dir, filepath.Join(f.Dir, "private")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != os.ModeDir|0o700 {
			t.Errorf("%s: %v %v, want a directory with mode 0700", p, fi.Mode(), err)
		}
	}
	var found []string
	err := filepath.WalkDir(f.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(f.Dir, p)
		found = append(found, filepath.ToSlash(rel))
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if m, ok := want[filepath.ToSlash(rel)]; !ok || fi.Mode() != m {
			t.Errorf("%s: mode %v, want %v (known: %v)", rel, fi.Mode(), m, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != len(want) {
		t.Errorf("files %v, want the %d of %v and no temporary files", found, len(want), want)
	}
	if len(f.Written) != len(want) || len(f.Kept) != 0 {
		t.Errorf("Written %v, Kept %v", f.Written, f.Kept)
	}
	for _, p := range f.Written {
		if !filepath.IsAbs(p) || !strings.HasPrefix(p, f.Dir+string(filepath.Separator)) {
			t.Errorf("written %q is not an absolute path in %s", p, f.Dir)
		}
	}

	// A directory that exists keeps its mode; a relative one is made absolute.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	g := create(t, Options{Dir: "."})
	if g.Dir != dir && !strings.HasSuffix(g.Dir, dir) {
		t.Errorf("Dir %q, want %q", g.Dir, dir)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("an existing directory's mode became %v (%v)", fi.Mode(), err)
	}
}

func TestTokens(t *testing.T) {
	a := create(t, Options{})
	b := create(t, Options{})
	seen := map[string]bool{}
	for _, p := range []string{a.InternalToken, a.RESTToken, b.InternalToken, b.RESTToken} {
		s := string(read(t, p))
		tok, ok := strings.CutSuffix(s, "\n")
		if _, err := hex.DecodeString(tok); !ok || len(tok) != 64 || err != nil || strings.ToLower(tok) != tok {
			t.Errorf("%s holds %q, want 64 lowercase hex characters and a newline", p, s)
		}
		if seen[tok] {
			t.Errorf("%s repeats a token", p)
		}
		seen[tok] = true
	}
}

// snapshot reads every file of f.
func snapshot(t *testing.T, f *Files) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, p := range f.all() {
		m[p] = read(t, p)
	}
	return m
}

func TestRefusesOverwrite(t *testing.T) {
	f := create(t, Options{})
	before := snapshot(t, f)
	_, err := Create(Options{Dir: f.Dir, Now: at(t0)})
	if err == nil {
		t.Fatal("Create replaced an existing directory's files")
	}
	for _, s := range []string{f.InternalCA, "--renew", "--force", "11 more"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	for p, b := range snapshot(t, f) {
		if !bytes.Equal(b, before[p]) {
			t.Errorf("%s changed", p)
		}
	}

	// One file of the set is enough to refuse, the CA keys' too.
	for _, name := range []string{"rest.token", "private/rest-ca-key.pem"} {
		dir := t.TempDir()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("mine\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Create(Options{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("a directory holding %s: err %v, want a refusal naming it", name, err)
		}
		if b := read(t, p); string(b) != "mine\n" {
			t.Errorf("%s was replaced", p)
		}
	}
	// Other files do not count.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	create(t, Options{Dir: dir})
}

func TestRenew(t *testing.T) {
	f := create(t, Options{})
	before := snapshot(t, f)
	t1 := t0.Add(300 * 24 * time.Hour)
	r, err := Create(Options{Dir: f.Dir, Renew: true, Now: at(t1), Hosts: []string{"tide.example"}})
	if err != nil {
		t.Fatal(err)
	}
	kept := []string{f.InternalCA, f.InternalToken, f.RESTCA, f.RESTToken, f.InternalCAKey, f.RESTCAKey}
	for _, p := range kept {
		if !bytes.Equal(read(t, p), before[p]) {
			t.Errorf("%s changed on --renew", p)
		}
	}
	if !slices.Equal(r.Kept, kept) {
		t.Errorf("Kept %v, want %v", r.Kept, kept)
	}
	leaves := []string{f.InternalKey, f.InternalCert, f.RESTKey, f.RESTCert, f.RESTClientKey, f.RESTClientCert}
	if !slices.Equal(r.Written, leaves) {
		t.Errorf("Written %v, want %v", r.Written, leaves)
	}
	for _, p := range leaves {
		if bytes.Equal(read(t, p), before[p]) {
			t.Errorf("%s did not change on --renew", p)
		}
	}
	internalCA, restCA := pool(t, f.InternalCA), pool(t, f.RESTCA)
	for _, tc := range []struct {
		cert  string
		roots *x509.CertPool
		eku   x509.ExtKeyUsage
	}{{f.InternalCert, internalCA, x509.ExtKeyUsageClientAuth}, {f.RESTCert, restCA, x509.ExtKeyUsageServerAuth},
		{f.RESTClientCert, restCA, x509.ExtKeyUsageClientAuth}} {
		c := readCert(t, tc.cert)
		old, _ := pem.Decode(before[tc.cert])
		oldCert, err := x509.ParseCertificate(old.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if c.SerialNumber.Cmp(oldCert.SerialNumber) == 0 {
			t.Errorf("%s: the renewed certificate has the old serial", tc.cert)
		}
		if !c.NotBefore.Equal(t1.Add(-5*time.Minute)) || !c.NotAfter.Equal(t1.Add(DefaultValidity)) {
			t.Errorf("%s: valid %v to %v, want from the renewal", tc.cert, c.NotBefore, c.NotAfter)
		}
		// Past the old certificate's end, the new one verifies against the old CA.
		if _, err := c.Verify(x509.VerifyOptions{Roots: tc.roots, KeyUsages: []x509.ExtKeyUsage{tc.eku},
			CurrentTime: t0.Add(DefaultValidity + 24*time.Hour)}); err != nil {
			t.Errorf("%s: the renewed certificate does not verify against the kept CA: %v", tc.cert, err)
		}
	}
	if c := readCert(t, f.RESTCert); !slices.Contains(c.DNSNames, "tide.example") {
		t.Errorf("the renewed REST certificate names %v, want the new host", c.DNSNames)
	}
	pair(t, f.InternalCert, f.InternalKey)
	// The renewed directory still renews.
	if _, err := Create(Options{Dir: f.Dir, Renew: true, Now: at(t1.Add(time.Hour))}); err != nil {
		t.Error(err)
	}
}

func TestRenewNeedsWhatItKeeps(t *testing.T) {
	_, err := Create(Options{Dir: t.TempDir(), Renew: true})
	if err == nil || !strings.Contains(err.Error(), "internal-ca.pem, private/internal-ca-key.pem, internal.token, rest-ca.pem, private/rest-ca-key.pem, rest.token") {
		t.Errorf("renewing an empty directory: %v, want every missing file named", err)
	}

	f := create(t, Options{})
	if err := os.Remove(f.RESTCAKey); err != nil {
		t.Fatal(err)
	}
	_, err = Create(Options{Dir: f.Dir, Renew: true, Now: at(t0)})
	if err == nil || !strings.Contains(err.Error(), "has no private/rest-ca-key.pem:") {
		t.Errorf("renewing without the REST CA key: %v", err)
	}

	// A key that is not the CA's.
	if err := os.WriteFile(f.RESTCAKey, read(t, f.InternalCAKey), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Create(Options{Dir: f.Dir, Renew: true, Now: at(t0)})
	if err == nil || !strings.Contains(err.Error(), "is not the key of "+f.RESTCA) {
		t.Errorf("renewing with the wrong CA key: %v", err)
	}

	// A token too short to be accepted.
	g := create(t, Options{})
	if err := os.WriteFile(g.RESTToken, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Create(Options{Dir: g.Dir, Renew: true, Now: at(t0)})
	if err == nil || !strings.Contains(err.Error(), g.RESTToken) {
		t.Errorf("renewing with a short token: %v", err)
	}

	// Certificates that would outlive the CA.
	h := create(t, Options{})
	_, err = Create(Options{Dir: h.Dir, Renew: true, Now: at(t0.AddDate(9, 6, 0))})
	if err == nil || !strings.Contains(err.Error(), "would outlive the CA") {
		t.Errorf("renewing half a year before the CA expires, for a year: %v", err)
	}
	if _, err := Create(Options{Dir: h.Dir, Renew: true, Now: at(t0.AddDate(9, 6, 0)), Validity: 24 * time.Hour}); err != nil {
		t.Errorf("renewing for a day, before the CA expires: %v", err)
	}
}

func TestForce(t *testing.T) {
	f := create(t, Options{})
	before := snapshot(t, f)
	g, err := Create(Options{Dir: f.Dir, Force: true, Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range snapshot(t, g) {
		if bytes.Equal(b, before[p]) {
			t.Errorf("%s was kept by --force", p)
		}
	}
	old := x509.NewCertPool()
	block, _ := pem.Decode(before[f.InternalCA])
	oldCA, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	old.AddCert(oldCA)
	c := readCert(t, g.InternalCert)
	opts := x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: t0}
	opts.Roots = old
	if _, err := c.Verify(opts); err == nil {
		t.Error("after --force, the internal certificate verifies against the old CA")
	}
	opts.Roots = pool(t, g.InternalCA)
	if _, err := c.Verify(opts); err != nil {
		t.Errorf("after --force: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, "no directory"},
		{Options{Renew: true, Force: true}, "give one of the two"},
		{Options{Validity: 365 * time.Millisecond}, "want at least 1m0s"},
		{Options{Validity: -time.Hour}, "want at least"},
		{Options{Validity: 11 * 365 * 24 * time.Hour}, "would outlive the CA"},
	} {
		if tc.o.Dir == "" && tc.want != "no directory" {
			tc.o.Dir = filepath.Join(t.TempDir(), "s")
		}
		_, err := Create(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.o, err, tc.want)
		}
		if tc.o.Dir != "" {
			if _, err := os.Stat(tc.o.Dir); err == nil {
				t.Errorf("%+v: the refused Create made %s", tc.o, tc.o.Dir)
			}
		}
	}
}
