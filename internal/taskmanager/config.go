package taskmanager

import (
	"net"
	"strconv"

	"github.com/tide-stream/tide/internal/config"
)

// FromConfig fills the parts of a Config that come from Tide's
// configuration keys; the caller adds the registry, the version and the
// logger (and may override the JobManager's address).
func FromConfig(conf *config.Config) Config {
	return Config{
		JobManager: net.JoinHostPort(conf.JobManagerRPCAddress, strconv.Itoa(conf.JobManagerRPCPort)),
		Slots:      conf.NumberOfTaskSlots,
		DataHost:   conf.TaskManagerHost,
		DataPort:   conf.TaskManagerDataPort,
		ResourceID: conf.TaskManagerResourceID,
		BufferSize: int(conf.NetworkBufferSize), BufferTimeout: conf.BufferTimeout,
		Credits:             conf.NetworkCreditsPerChannel,
		DecommissionTimeout: conf.DecommissionTimeout,
		NoLocalRecovery:     !conf.LocalRecovery,
	}
}
