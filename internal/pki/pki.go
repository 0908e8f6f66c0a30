// Package pki owns making what a Tide cluster authenticates with:
// certificate authorities, certificates and tokens. Create writes them to
// one directory (`tide secrets create`), and renews the certificates from
// the same authorities; Files.Config prints the configuration that turns
// them on. Reading them back, serving TLS and checking tokens belong to the
// processes that use them, not here.
//
// There are two authorities, so that what is handed to the outside (a REST
// client certificate for Prometheus or an operator) can never join the
// cluster: the internal CA signs the one certificate every JobManager and
// TaskManager presents on the RPC and data-plane ports, the REST CA the
// REST and metrics servers' certificate and the REST client certificate.
//
// Only the standard library is used: ECDSA P-256 keys, random 128-bit
// serial numbers, certificates valid from five minutes before now (clock
// skew between hosts).
package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultValidity is how long leaf certificates are valid unless
// Options.Validity says otherwise.
const DefaultValidity = 365 * 24 * time.Hour

// caYears is how long the certificate authorities are valid.
const caYears = 10

// minValidity is the shortest leaf validity Create accepts: anything
// shorter is a mistake (a bare number is milliseconds in Flink's syntax).
const minValidity = time.Minute

// clockSkew is how far before now certificates become valid, so that a
// host whose clock is a little behind accepts them at once.
const clockSkew = 5 * time.Minute

// The files Create writes, relative to Options.Dir. The CA keys are in a
// subdirectory, so that `kubectl create secret generic --from-file=DIR`,
// which takes only the regular files at the top of DIR, leaves them out.
const (
	internalCAName     = "internal-ca.pem"
	internalCertName   = "internal.pem"
	internalKeyName    = "internal-key.pem"
	restCAName         = "rest-ca.pem"
	restCertName       = "rest.pem"
	restKeyName        = "rest-key.pem"
	restClientCertName = "rest-client.pem"
	restClientKeyName  = "rest-client-key.pem"
	internalTokenName  = "internal.token"
	restTokenName      = "rest.token"
	privateDirName     = "private"
	internalCAKeyName  = "private/internal-ca-key.pem"
	restCAKeyName      = "private/rest-ca-key.pem"
)

// The subjects' common names.
const (
	internalCACN   = "Tide internal CA"
	restCACN       = "Tide REST CA"
	internalCN     = "tide-internal"
	restCN         = "tide-rest"
	restClientCN   = "tide-rest-client"
	tokenBytes     = 32 // a token is this many random bytes, hex-encoded
	minTokenLength = 16 // what the configuration accepts as a token file
)

// Options says where Create writes and what it makes.
type Options struct {
	// Dir is the directory of the files; created (mode 0700) if missing.
	Dir string
	// Hosts are extra DNS names and IP addresses of the internal and the
	// REST server certificates; localhost, 127.0.0.1 and ::1 are always
	// included.
	Hosts []string
	// Validity is how long the leaf certificates are valid; 0 means
	// DefaultValidity. The CAs are valid for 10 years.
	Validity time.Duration
	// Renew (--renew) keeps the CAs and tokens found in Dir and issues new
	// leaf certificates from the CAs: certificate rotation.
	Renew bool
	// Force (--force) replaces everything in Dir: new CAs, certificates and
	// tokens.
	Force bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Files are the absolute paths of what Create made, and what it did.
type Files struct {
	// Dir is the directory, absolute.
	Dir string
	// InternalCA is the internal CA's certificate (security.ssl.internal.ca-file).
	InternalCA string
	// InternalCert and InternalKey are the certificate and key of every
	// JobManager and TaskManager (security.ssl.internal.cert-file, key-file).
	InternalCert, InternalKey string
	// InternalToken is the internal shared secret (security.internal.token-file).
	InternalToken string
	// RESTCA is the REST CA's certificate (security.ssl.rest.ca-file).
	RESTCA string
	// RESTCert and RESTKey are the REST and metrics servers' certificate and
	// key (security.ssl.rest.cert-file, key-file).
	RESTCert, RESTKey string
	// RESTClientCert and RESTClientKey are a REST client certificate and key
	// (security.ssl.rest.client-cert-file, client-key-file; Prometheus).
	RESTClientCert, RESTClientKey string
	// RESTToken is the REST bearer token (rest.auth.token-file).
	RESTToken string
	// InternalCAKey and RESTCAKey are the CAs' private keys, in a
	// subdirectory: no process needs them, only a renewal.
	InternalCAKey, RESTCAKey string

	// Written lists the files Create wrote, in the order it wrote them;
	// Kept those a renewal left as they were.
	Written, Kept []string
	// NotAfter is when the leaf certificates expire; CANotAfter when the
	// first of the two CAs does.
	NotAfter, CANotAfter time.Time
}

// paths returns the Files of dir, before anything is written.
func paths(dir string) *Files {
	p := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
	return &Files{
		Dir:            dir,
		InternalCA:     p(internalCAName),
		InternalCert:   p(internalCertName),
		InternalKey:    p(internalKeyName),
		InternalToken:  p(internalTokenName),
		RESTCA:         p(restCAName),
		RESTCert:       p(restCertName),
		RESTKey:        p(restKeyName),
		RESTClientCert: p(restClientCertName),
		RESTClientKey:  p(restClientKeyName),
		RESTToken:      p(restTokenName),
		InternalCAKey:  p(internalCAKeyName),
		RESTCAKey:      p(restCAKeyName),
	}
}

// all returns every file Create makes.
func (f *Files) all() []string {
	return []string{f.InternalCA, f.InternalCert, f.InternalKey, f.InternalToken,
		f.RESTCA, f.RESTCert, f.RESTKey, f.RESTClientCert, f.RESTClientKey, f.RESTToken,
		f.InternalCAKey, f.RESTCAKey}
}

// Create makes the CAs, certificates and tokens of a cluster in o.Dir, or
// with o.Renew new leaf certificates from the CAs already there. It refuses
// to replace any file unless o.Renew or o.Force is set. Everything is made
// in memory first; then each file is written atomically (a temporary file
// renamed over it), keys and tokens with mode 0600, certificates 0644.
//
// A process that re-reads its certificate and key when they change may, in
// the moment between the two renames of a renewal, see the new key with the
// old certificate; it must keep its old pair until the two match.
//
// When writing fails, the Files returned with the error list in Written
// what was written before.
func Create(o Options) (*Files, error) {
	if o.Dir == "" {
		return nil, errors.New("pki: no directory given")
	}
	if o.Renew && o.Force {
		return nil, errors.New("pki: --renew keeps the CAs and tokens, --force replaces them: give one of the two")
	}
	validity := o.Validity
	switch {
	case validity == 0:
		validity = DefaultValidity
	case validity < minValidity:
		return nil, fmt.Errorf("pki: certificate validity %v: want at least %v", validity, minValidity)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	sans, err := parseHosts(o.Hosts)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("pki: directory %s: %w", o.Dir, err)
	}
	f := paths(dir)
	existing, err := f.existing()
	if err != nil {
		return nil, err
	}

	var internalCA, restCA *authority
	var internalToken, restToken []byte
	switch {
	case o.Renew:
		if internalCA, restCA, err = f.load(t); err != nil {
			return nil, err
		}
	case len(existing) > 0 && !o.Force:
		more := ""
		if len(existing) > 1 {
			more = fmt.Sprintf(" (and %d more of its files)", len(existing)-1)
		}
		return nil, fmt.Errorf("pki: %s already exists%s: --renew issues new certificates from the CAs in %s, keeping them and the tokens; --force replaces everything",
			existing[0], more, dir)
	default:
		if internalCA, err = newCA(internalCACN, t); err != nil {
			return nil, err
		}
		if restCA, err = newCA(restCACN, t); err != nil {
			return nil, err
		}
		if internalToken, err = newToken(); err != nil {
			return nil, err
		}
		if restToken, err = newToken(); err != nil {
			return nil, err
		}
	}

	notAfter := t.Add(validity)
	f.NotAfter = notAfter.Truncate(time.Second)
	f.CANotAfter = earlier(internalCA.cert.NotAfter, restCA.cert.NotAfter)
	for _, ca := range []*authority{internalCA, restCA} {
		if notAfter.After(ca.cert.NotAfter) {
			return nil, fmt.Errorf("pki: certificates valid until %s would outlive the CA %q, valid until %s: shorten the validity, or make new CAs with --force",
				notAfter.UTC().Format(time.RFC3339), ca.cert.Subject.CommonName, ca.cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	internal, err := internalCA.issue(internalCN, both, sans, t, notAfter)
	if err != nil {
		return nil, err
	}
	rest, err := restCA.issue(restCN, server, sans, t, notAfter)
	if err != nil {
		return nil, err
	}
	restClient, err := restCA.issue(restClientCN, client, hosts{}, t, notAfter)
	if err != nil {
		return nil, err
	}

	// Write: the directories, then (unless renewing) the CAs and tokens,
	// then each leaf's key and certificate.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: create %s: %w", dir, err)
	}
	private := filepath.Join(dir, privateDirName)
	if err := os.MkdirAll(private, 0o700); err != nil {
		return nil, fmt.Errorf("pki: create %s: %w", private, err)
	}
	if err := os.Chmod(private, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %s: %w", private, err)
	}
	var w writer
	if o.Renew {
		f.Kept = []string{f.InternalCA, f.InternalToken, f.RESTCA, f.RESTToken, f.InternalCAKey, f.RESTCAKey}
	} else {
		w.write(f.InternalCAKey, internalCA.keyPEM, modeSecret)
		w.write(f.RESTCAKey, restCA.keyPEM, modeSecret)
		w.write(f.InternalCA, internalCA.certPEM, modePublic)
		w.write(f.RESTCA, restCA.certPEM, modePublic)
		w.write(f.InternalToken, internalToken, modeSecret)
		w.write(f.RESTToken, restToken, modeSecret)
	}
	for _, l := range []struct {
		leaf      *leaf
		cert, key string
	}{{internal, f.InternalCert, f.InternalKey}, {rest, f.RESTCert, f.RESTKey}, {restClient, f.RESTClientCert, f.RESTClientKey}} {
		w.write(l.key, l.leaf.keyPEM, modeSecret)
		w.write(l.cert, l.leaf.certPEM, modePublic)
	}
	w.syncDirs()
	f.Written = w.written
	if w.err != nil {
		return f, w.err
	}
	return f, nil
}

// existing returns those of f's files that exist.
func (f *Files) existing() ([]string, error) {
	var out []string
	for _, p := range f.all() {
		_, err := os.Lstat(p)
		switch {
		case err == nil:
			out = append(out, p)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	return out, nil
}

// load reads what a renewal keeps: the CAs with their keys, and checks the
// tokens. It names every missing file at once.
func (f *Files) load(now time.Time) (internalCA, restCA *authority, err error) {
	var missing []string
	for _, p := range []string{f.InternalCA, f.InternalCAKey, f.InternalToken, f.RESTCA, f.RESTCAKey, f.RESTToken} {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			rel, _ := filepath.Rel(f.Dir, p)
			missing = append(missing, rel)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("pki: --renew: %s has no %s: renewing needs the CAs, their keys and the tokens that an earlier `tide secrets create` made there; --force makes everything anew",
			f.Dir, strings.Join(missing, ", "))
	}
	if internalCA, err = loadCA(f.InternalCA, f.InternalCAKey, now); err != nil {
		return nil, nil, err
	}
	if restCA, err = loadCA(f.RESTCA, f.RESTCAKey, now); err != nil {
		return nil, nil, err
	}
	for _, p := range []string{f.InternalToken, f.RESTToken} {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("pki: --renew: %w", err)
		}
		if n := len(strings.TrimSpace(string(b))); n < minTokenLength {
			return nil, nil, fmt.Errorf("pki: --renew: token %s holds %d characters, want at least %d; --force makes new tokens", p, n, minTokenLength)
		}
	}
	return internalCA, restCA, nil
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
