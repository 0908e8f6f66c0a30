package rest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/security"
	"golang.org/x/net/netutil"
)

// Default values of Config.
const (
	DefaultAddr           = "localhost:8081"
	DefaultCommandTimeout = 10 * time.Second
	// MaxBodyBytes bounds every request body; a larger one is answered 413.
	// The largest body the API takes, a savepoint or stop request, is a
	// directory and a flag.
	MaxBodyBytes = 1 << 20
	// DefaultReadHeaderTimeout bounds how long a client may take to send a
	// request's headers (and, over HTTPS, the TLS handshake): a client that
	// connects and trickles bytes is dropped after it.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMaxConnections bounds the connections served at once; one
	// more waits in the kernel's accept queue until another closes.
	DefaultMaxConnections = 256
	// maxHeaderBytes bounds a request's headers; a larger one is answered
	// 431.
	maxHeaderBytes = 64 << 10
)

// Authenticator decides which requests reach the API: Require wraps next
// so that a request without valid credentials is refused (401 with a JSON
// error body), unless open says it needs none. *security.REST is one.
type Authenticator interface {
	Require(next http.Handler, open func(*http.Request) bool) http.Handler
}

// Config configures a Server.
type Config struct {
	// Addr is the host:port to listen on (rest.address:rest.port). Default
	// DefaultAddr; port 0 picks a free port (see Server.Addr).
	Addr string
	// Logger receives request and error logs. Default: discard.
	Logger *slog.Logger
	// Version is the build version, shown as tide-version by /overview and
	// /config. Default "dev".
	Version string
	// Revision is Tide's source revision, shown as flink-commit by
	// /overview and flink-revision by /config. Default: the VCS revision
	// the binary was built from, or "unknown".
	Revision string
	// CommandTimeout bounds how long a command (savepoint, stop, cancel)
	// may wait for the JobManager to accept it. Default
	// DefaultCommandTimeout.
	CommandTimeout time.Duration
	// TLS, if set, makes Start serve HTTPS with it (security.REST's
	// ServerTLS); nil serves plain HTTP.
	TLS *tls.Config
	// Auth, if set, guards every route but the web UI's static files (the
	// page, its script and styles, which hold no data), the ones Handler
	// serves too. Nil: no authentication.
	Auth Authenticator
	// ReadHeaderTimeout bounds the time to read a request's headers.
	// Default DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// MaxConnections bounds the connections Start serves at once. Default
	// DefaultMaxConnections.
	MaxConnections int
}

// EnsureDefaults fills the zero fields of c with their defaults.
func (c *Config) EnsureDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Revision == "" {
		c.Revision = buildRevision()
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
}

// FlinkAPIVersion is the Flink version whose REST API shapes Tide serves,
// shown as flink-version by /overview and /config so that tools that check
// it know which fields to expect.
const FlinkAPIVersion = "1.19"

// buildRevision returns the VCS revision the binary was built from.
func buildRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// Server serves the REST API and the web UI for one Backend.
//
// Its lifecycle is NewServer, Start, then Close. Handler may be used without
// Start, e.g. to mount the API in another server or in tests.
type Server struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	handler http.Handler
	mux     *http.ServeMux

	mu struct {
		sync.Mutex
		// srv is set by Start and never cleared; closed is set by Close.
		srv    *http.Server
		ln     net.Listener
		closed bool
		// done is closed when the serving goroutine returns.
		done chan struct{}
	}
}

// NewServer returns a Server for b. It does not listen; call Start.
func NewServer(cfg Config, b Backend) *Server {
	cfg.EnsureDefaults()
	s := &Server{
		cfg:     cfg,
		backend: b,
		log:     cfg.Logger.With("component", "rest"),
		mux:     http.NewServeMux(),
	}
	s.routes()
	s.handler = s.recoverPanics(s.limitBody(http.HandlerFunc(s.dispatch)))
	if cfg.Auth != nil {
		s.handler = s.logRefused(cfg.Auth.Require(s.handler, uiStatic))
	}
	return s
}

// uiStatic reports whether r asks for one of the web UI's static files,
// which need no authentication: they hold no data, and the page must load
// to ask the user for the token that its API calls need.
func uiStatic(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/ui/")
}

// logRefused logs, at DEBUG, the requests next refused as unauthenticated:
// the peer, the method and the path, never a header.
func (s *Server) logRefused(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized {
			s.log.Debug("refused an unauthenticated request", "peer", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
				"had_authorization", r.Header.Get("Authorization") != "")
		}
	})
}

// statusWriter remembers the status of the response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Handler returns the server's HTTP handler: the API, the web UI, JSON
// errors for unknown paths and methods, panic recovery, the body limit and,
// with Config.Auth, authentication.
func (s *Server) Handler() http.Handler { return s.handler }

// Scheme is "https" when the server serves TLS, else "http".
func (s *Server) Scheme() string {
	if s.cfg.TLS != nil {
		return "https"
	}
	return "http"
}

// Start listens on Config.Addr and serves in a goroutine owned by s until
// Close: HTTPS with Config.TLS, else HTTP, at most Config.MaxConnections
// connections at once. It fails if the address cannot be bound, naming it,
// or if s was already started or closed.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return errors.New("rest: start: server closed")
	}
	if s.mu.srv != nil {
		return errors.New("rest: start: server already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("rest: listen on %s: %w", s.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		TLSConfig:         s.cfg.TLS,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.CommandTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          security.HTTPErrorLog(s.log.Handler()),
	}
	done := make(chan struct{})
	s.mu.srv, s.mu.ln, s.mu.done = srv, ln, done
	s.log.Info("REST API listening", "addr", ln.Addr().String(), "scheme", s.Scheme())
	limited := netutil.LimitListener(ln, s.cfg.MaxConnections)
	go func() { // owner: s; Close waits for done
		defer close(done)
		var err error
		if s.cfg.TLS != nil {
			err = srv.ServeTLS(limited, "", "")
		} else {
			err = srv.Serve(limited)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("REST API stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on once started (with the
// actual port when Config.Addr asked for port 0), else Config.Addr.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.ln != nil {
		return s.mu.ln.Addr().String()
	}
	return s.cfg.Addr
}

// Close stops accepting connections, waits for in-flight requests until ctx
// is done, then closes the remaining connections, and waits for the serving
// goroutine to return. It is safe to call more than once and before Start.
// It returns ctx's error if the graceful shutdown did not finish in time.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.mu.closed = true
	srv, done := s.mu.srv, s.mu.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		// Graceful shutdown timed out: drop the remaining connections.
		_ = srv.Close()
		err = fmt.Errorf("rest: graceful shutdown: %w", err)
	}
	<-done
	return err
}
