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

// MetricsFix names the keys that authenticate a metrics port.
const MetricsFix = "rest.auth.token-file or security.ssl.rest.authentication-enabled, or metrics.reporter.prom.allow-unauthenticated: true to publish the metrics"

// Ports returns the ports a JobManager (jobManager true) or a TaskManager
// binds, as conf configures them: the JobManager's control port on
// jobmanager.rpc.address, REST and metrics ports on rest.address; the
// TaskManager's data port and metrics port on taskmanager.host. Whether a
// port is authenticated is read from the keys alone; loading the files they
// name is InternalFromConfig's and RESTFromConfig's.
func Ports(conf *config.Config, jobManager bool) []Port {
	internal := conf.InternalTLS.Enabled || conf.InternalTokenFile != ""
	rest := conf.RESTTokenFile != "" || conf.RESTTLS.ClientAuth
	const (
		internalFix = "security.ssl.internal.enabled (with its cert-file, key-file and ca-file) or security.internal.token-file"
		restFix     = "rest.auth.token-file (with security.ssl.rest.enabled, so that the token is not sent in clear) or security.ssl.rest.authentication-enabled"
		metricsFix  = MetricsFix
	)
	if jobManager {
		return []Port{
			{Key: "jobmanager.rpc.address", Host: conf.JobManagerRPCAddress, Authenticated: internal, Fix: internalFix},
			{Key: "rest.address", Host: conf.RESTAddress, Authenticated: rest, Fix: restFix},
			{Key: "rest.address (metrics.reporter.prom.port)", Host: conf.RESTAddress, Authenticated: rest || conf.MetricsOpen, Fix: metricsFix},
		}
	}
	return []Port{
		{Key: "taskmanager.host", Host: conf.TaskManagerHost, Authenticated: internal, Fix: internalFix},
		{Key: "taskmanager.host (metrics.reporter.prom.port)", Host: conf.TaskManagerHost, Authenticated: rest || conf.MetricsOpen, Fix: metricsFix},
	}
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

// IsLoopback reports whether binding host listens on loopback only: a
// loopback IP, or a name (localhost too: /etc/hosts decides what it is)
// that resolves to loopback IPs only. The empty host and unspecified
// addresses (0.0.0.0, ::) are not.
func IsLoopback(host string) (bool, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false, nil
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
