package security

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/config"
)

// Port is a port a process is about to bind, for CheckBind.
type Port struct {
	// Key is the configuration key that sets the address, e.g. rest.address.
	Key string
	// Host is the address to bind.
	Host string
	// Authenticated says whether the port identifies its clients.
	Authenticated bool
	// Fix names the keys that would authenticate it.
	Fix string
}

// InternalPort is the port of the internal plane bound on host (the
// JobManager's jobmanager.rpc.address, a TaskManager's taskmanager.host).
func InternalPort(key, host string, n *Internal) Port {
	return Port{Key: key, Host: host, Authenticated: n.Enabled(),
		Fix: "security.ssl.internal.enabled (with its cert-file, key-file and ca-file) or security.internal.token-file"}
}

// RESTPort is the REST API's port on rest.address.
func RESTPort(host string, r *REST) Port {
	return Port{Key: "rest.address", Host: host, Authenticated: r.Authenticated(),
		Fix: "rest.auth.token-file (with security.ssl.rest.enabled, so that the token is not sent in clear) or security.ssl.rest.authentication-enabled"}
}

// MetricsPort is the metrics port bound on host (key names the address's
// key); open is metrics.reporter.prom.allow-unauthenticated.
func MetricsPort(key, host string, r *REST, open bool) Port {
	return Port{Key: key + " (metrics.reporter.prom.port)", Host: host, Authenticated: r.Authenticated() || open,
		Fix: "rest.auth.token-file or security.ssl.rest.authentication-enabled, or metrics.reporter.prom.allow-unauthenticated: true to publish the metrics"}
}

// CheckBind refuses to bind any of ports to an address other machines can
// reach when it has no authentication, unless security.allow-insecure is
// true. The error names the keys to set.
func CheckBind(conf *config.Config, ports ...Port) error {
	if conf.AllowInsecure {
		return nil
	}
	var bad []string
	for _, p := range ports {
		if p.Authenticated {
			continue
		}
		loop, err := IsLoopback(p.Host)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Key, err)
		}
		if !loop {
			bad = append(bad, fmt.Sprintf("%s is %q, which is not loopback, and the port has no authentication: set %s", p.Key, p.Host, p.Fix))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("refusing to open a port to the network without authentication:\n  %s\n"+
		"(tide secrets create --dir DIR writes what they need; security.allow-insecure: true overrides this check)",
		strings.Join(bad, "\n  "))
}

// IsLoopback reports whether binding host listens on loopback only:
// "localhost", a loopback IP, or a name that resolves to loopback IPs
// only. The empty host and unspecified addresses (0.0.0.0, ::) are not.
func IsLoopback(host string) (bool, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false, nil
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return false, fmt.Errorf("resolve %q: %w", host, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return false, nil
		}
	}
	return len(addrs) > 0, nil
}
