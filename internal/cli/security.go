package cli

import (
	"log/slog"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/transport"
)

// processSecurity refuses to go on when a port the JobManager (jobManager
// true) or TaskManager is about to bind would be open to the network with no
// authentication, and loads what it authenticates with. The Network is nil
// when the internal plane is not secured.
func processSecurity(conf *config.Config, jobManager bool, log *slog.Logger) (transport.Network, *security.REST, error) {
	if err := security.CheckBind(conf, security.Ports(conf, jobManager)...); err != nil {
		return nil, nil, err
	}
	internal, err := security.InternalFromConfig(conf, nil, log)
	if err != nil {
		return nil, nil, err
	}
	rest, err := security.RESTFromConfig(conf, log)
	if err != nil {
		return nil, nil, err
	}
	if internal == nil {
		return nil, rest, nil
	}
	return internal, rest, nil
}
