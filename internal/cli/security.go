package cli

import (
	"log/slog"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/transport"
)

// processSecurity loads what a JobManager or TaskManager authenticates
// with, and refuses to go on when a port it is about to bind on host
// (hostKey names the key that sets it) would be open to the network with
// no authentication. The Network is nil when the internal plane is not
// secured.
func processSecurity(conf *config.Config, hostKey, host string, log *slog.Logger) (transport.Network, *security.REST, error) {
	internal, err := security.InternalFromConfig(conf, nil, log)
	if err != nil {
		return nil, nil, err
	}
	rest, err := security.RESTFromConfig(conf, log)
	if err != nil {
		return nil, nil, err
	}
	ports := []security.Port{security.InternalPort(hostKey, host, internal)}
	if hostKey == "jobmanager.rpc.address" {
		ports = append(ports, security.RESTPort(conf.RESTAddress, rest),
			security.MetricsPort("rest.address", conf.RESTAddress, rest, conf.MetricsOpen))
	} else {
		ports = append(ports, security.MetricsPort(hostKey, host, rest, conf.MetricsOpen))
	}
	if err := security.CheckBind(conf, ports...); err != nil {
		return nil, nil, err
	}
	if internal == nil {
		return nil, rest, nil
	}
	return internal, rest, nil
}
