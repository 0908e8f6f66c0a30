package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tide-stream/tide/internal/security"
	"golang.org/x/net/netutil"
)

// maxConnections bounds the connections a Server serves at once: a scraper
// or two, and whoever looks.
const maxConnections = 64

// Server serves a Registry's /metrics over HTTP.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	log  *slog.Logger
}

// Listen binds the first free port of [lo, hi] on host, as Flink's
// Prometheus reporter does with a port range (several TaskManagers on one
// machine take the next ones). A port in use is skipped; any other error,
// or no free port in the range, is returned naming the range.
func Listen(host string, lo, hi int) (net.Listener, error) {
	var last error
	for p := lo; p <= hi; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("metrics.reporter.prom.port: listen on %s port %d: %w", host, p, err)
		}
		last = err
	}
	return nil, fmt.Errorf("metrics.reporter.prom.port: no free port in %d-%d on %s (last: %v)", lo, hi, host, last)
}

// Route is another handler a Server serves beside /metrics.
type Route struct {
	Pattern string // a ServeMux pattern, "GET /decisions"
	Handler http.Handler
}

// Options are a Server's security and its other routes.
type Options struct {
	// TLS, if set, serves HTTPS with it (security.REST's ServerTLS).
	TLS *tls.Config
	// Auth, if set, wraps every route (security.REST's Require: a request
	// without the bearer token is a 401).
	Auth func(next http.Handler, open func(*http.Request) bool) http.Handler
	// Routes are served beside /metrics.
	Routes []Route
}

// Serve serves r's /metrics, and opts.Routes, on ln in a goroutine owned
// by the Server until Close: HTTPS with opts.TLS, and every route behind
// opts.Auth.
func Serve(r *Registry, ln net.Listener, log *slog.Logger, opts Options) *Server {
	mux := http.NewServeMux()
	for _, rt := range opts.Routes {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.Gatherer(), promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      security.HTTPErrorLog(log.Handler()),
		Timeout:       10 * time.Second,
	}))
	var h http.Handler = mux
	if opts.Auth != nil {
		h = opts.Auth(mux, nil)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			TLSConfig:         opts.TLS,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          security.HTTPErrorLog(log.Handler()),
		},
		ln: ln, done: make(chan struct{}), log: log,
	}
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
	}
	log.Info("Prometheus metrics listening", "addr", ln.Addr().String(), "scheme", scheme)
	limited := netutil.LimitListener(ln, maxConnections)
	go func() { // owner: the Server; ends at Close
		defer close(s.done)
		var err error
		if opts.TLS != nil {
			err = s.srv.ServeTLS(limited, "", "")
		} else {
			err = s.srv.Serve(limited)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting scrapes in flight finish until ctx ends,
// and waits for its goroutine.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	return err
}
