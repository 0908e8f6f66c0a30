package security

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/transport"
)

// InternalFromConfig returns the internal plane's Network over inner as
// security.ssl.internal.* and security.internal.token-file configure it,
// or nil when neither is set. Files that do not load are an error here, at
// start, not at the first connection.
func InternalFromConfig(conf *config.Config, inner transport.Network, log *slog.Logger) (*Internal, error) {
	n := &Internal{Inner: inner, Logger: log}
	if t := conf.InternalTLS; t.Enabled {
		certs, err := LoadCerts(t.CertFile, t.KeyFile, t.CAFile, log)
		if err != nil {
			return nil, fmt.Errorf("security.ssl.internal: %w", err)
		}
		n.Certs = certs
	}
	if conf.InternalTokenFile != "" {
		tok, err := ReadToken(conf.InternalTokenFile)
		if err != nil {
			return nil, fmt.Errorf("security.internal.token-file: %w", err)
		}
		if n.Secret, err = NewSecret(tok); err != nil {
			return nil, fmt.Errorf("security.internal.token-file: %w", err)
		}
	}
	if !n.Enabled() {
		return nil, nil
	}
	return n, nil
}

// REST is the security of an HTTP port (the REST API and web UI, or the
// metrics port): HTTPS, client certificates, a bearer token.
type REST struct {
	// Certs, if set, serves HTTPS with its certificate; with ClientAuth,
	// clients must present a certificate its CAs signed.
	Certs      *Certs
	ClientAuth bool
	// Token, if set, is the bearer token every request must carry.
	Token []byte
}

// RESTFromConfig reads security.ssl.rest.* and rest.auth.token-file. The
// result is never nil; its zero value is plain HTTP with no token.
func RESTFromConfig(conf *config.Config, log *slog.Logger) (*REST, error) {
	r := &REST{}
	if t := conf.RESTTLS; t.Enabled {
		ca := ""
		if t.ClientAuth {
			ca = t.CAFile
		}
		certs, err := LoadCerts(t.CertFile, t.KeyFile, ca, log)
		if err != nil {
			return nil, fmt.Errorf("security.ssl.rest: %w", err)
		}
		r.Certs, r.ClientAuth = certs, t.ClientAuth
	}
	if conf.RESTTokenFile != "" {
		tok, err := ReadToken(conf.RESTTokenFile)
		if err != nil {
			return nil, fmt.Errorf("rest.auth.token-file: %w", err)
		}
		r.Token = tok
	}
	return r, nil
}

// Authenticated reports whether r identifies its clients.
func (r *REST) Authenticated() bool { return len(r.Token) > 0 || r.ClientAuth }

// Scheme is "https" or "http".
func (r *REST) Scheme() string {
	if r.Certs != nil {
		return "https"
	}
	return "http"
}

// ServerTLS is the TLS configuration of the port, nil for plain HTTP. The
// certificate is read again when its files change.
func (r *REST) ServerTLS() *tls.Config {
	if r.Certs == nil {
		return nil
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Set here, not left to net/http: the configuration
		// GetConfigForClient returns is this one's clone, which net/http
		// never sees to add HTTP/2 to.
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.Certs.Pair(), nil
		},
	}
	if r.ClientAuth {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c := cfg.Clone()
			c.GetConfigForClient = nil
			c.ClientCAs = r.Certs.Pool()
			return c, nil
		}
	}
	return cfg
}

// ClientFromConfig returns the HTTP client Tide's own tools use against a
// JobManager's REST API and metrics ports as configured: it trusts
// security.ssl.rest.ca-file, presents security.ssl.rest.client-cert-file,
// and sends rest.auth.token-file's token. The scheme is "https" when
// security.ssl.rest.enabled.
func ClientFromConfig(conf *config.Config) (client *http.Client, scheme string, err error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	scheme = "http"
	if t := conf.RESTTLS; t.Enabled {
		scheme = "https"
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, "", fmt.Errorf("security.ssl.rest.ca-file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, "", fmt.Errorf("security.ssl.rest.ca-file: %s holds no PEM certificate", t.CAFile)
			}
		}
		if t.ClientCertFile != "" {
			pair, err := tls.LoadX509KeyPair(t.ClientCertFile, t.ClientKeyFile)
			if err != nil {
				return nil, "", fmt.Errorf("security.ssl.rest.client-cert-file: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		tr.TLSClientConfig = tc
	}
	var rt http.RoundTripper = tr
	if conf.RESTTokenFile != "" {
		tok, err := ReadToken(conf.RESTTokenFile)
		if err != nil {
			return nil, "", fmt.Errorf("rest.auth.token-file: %w", err)
		}
		rt = &bearer{base: tr, header: "Bearer " + string(tok)}
	}
	return &http.Client{Transport: rt, CheckRedirect: sameOrigin}, scheme, nil
}

// sameOrigin refuses a redirect to another scheme, host or port: the
// bearer header goes on every request the transport sends, so a redirect
// elsewhere would hand the token to whoever is there.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if from := via[0].URL; req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
		return fmt.Errorf("refusing to follow a redirect from %s://%s to %s://%s: it would take the token elsewhere",
			from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// bearer adds the Authorization header to every request.
type bearer struct {
	base   http.RoundTripper
	header string
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", b.header)
	return b.base.RoundTrip(req)
}
