package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/security"
)

// serveMetrics serves reg's /metrics on the first free port of
// metrics.reporter.prom.port on host, and returns the function that stops
// it. A range with no free port is logged as an error and the process runs
// on without metrics, as Flink's reporter does: a taken port must not stop
// a job.
//
// The port is secured as the REST API is (sec): HTTPS with its certificate
// when security.ssl.rest.enabled, and the bearer token or a client
// certificate demanded, unless metrics.reporter.prom.allow-unauthenticated
// (then it stays HTTPS, but asks nothing of the client).
func serveMetrics(conf *config.Config, reg *metrics.Registry, host string, taskManager bool, sec *security.REST, log *slog.Logger) (stop func()) {
	lo, hi, err := conf.PromPortRange(taskManager)
	if err == nil {
		var srv *metrics.Server
		ln, lerr := metrics.Listen(host, lo, hi)
		if lerr == nil {
			srv = metrics.Serve(reg, ln, log, metricsOptions(conf, sec))
			return func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Close(ctx); err != nil {
					log.Warn("stopping the metrics server", "err", err)
				}
			}
		}
		err = lerr
	}
	log.Error("serving no Prometheus metrics", "err", err)
	return func() {}
}

// metricsOptions secures the metrics port as sec secures the REST API,
// less the client's authentication with metrics.reporter.prom.allow-unauthenticated.
func metricsOptions(conf *config.Config, sec *security.REST) metrics.Options {
	if conf.MetricsOpen {
		open := *sec
		open.Token, open.ClientAuth = nil, false
		sec = &open
	}
	return metrics.Options{TLS: sec.ServerTLS(), Auth: sec.Require}
}
