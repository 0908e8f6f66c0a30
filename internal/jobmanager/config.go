package jobmanager

import (
	"net"
	"strconv"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/scheduler"
)

// FromConfig fills the parts of a Config that come from Tide's
// configuration keys; the caller adds the job, the registry, the version
// and the logger. One translation serves the CLI and the test cluster, so
// that tests run with the same settings users get.
func FromConfig(conf *config.Config) Config {
	delay := conf.FixedDelayDelay
	if conf.RestartStrategy == config.RestartFailureRate {
		delay = conf.FailureRateDelay
	}
	return Config{
		RPCAddr:        net.JoinHostPort(conf.JobManagerRPCAddress, strconv.Itoa(conf.JobManagerRPCPort)),
		MaxParallelism: conf.MaxParallelism,
		Scheduler: scheduler.Config{
			Reactive: conf.SchedulerMode == config.SchedulerReactive, DefaultParallelism: conf.ParallelismDefault,
			StabilizationTimeout: conf.ResourceStabilizationTimeout, ResourceWaitTimeout: conf.ResourceWaitTimeout,
			ScalingIntervalMin: conf.ScalingIntervalMin, RescaleOnCheckpoint: conf.RescaleOnCheckpoint,
			Restart: scheduler.RestartConfig{Strategy: string(conf.RestartStrategy), Attempts: conf.FixedDelayAttempts,
				Delay: delay, InitialBackoff: conf.ExponentialDelayInitialBackoff,
				MaxBackoff: conf.ExponentialDelayMaxBackoff, Multiplier: conf.ExponentialDelayBackoffMultiplier,
				MaxFailuresPerInterval: conf.FailureRateMaxFailures, FailureRateInterval: conf.FailureRateInterval},
		},
		Checkpoint: checkpoint.Config{Interval: conf.CheckpointInterval, Timeout: conf.CheckpointTimeout,
			NumRetained: conf.CheckpointsNumRetained},
		CheckpointsDir:       conf.CheckpointsDir,
		SavepointPath:        conf.SavepointPath,
		Recovery:             conf.Recovery,
		IgnoreUnclaimedState: conf.IgnoreUnclaimedState,
		HeartbeatInterval:    conf.HeartbeatInterval,
		HeartbeatTimeout:     conf.HeartbeatTimeout,
		WatermarkInterval:    conf.AutoWatermarkInterval,
		Effective:            EffectiveConfig(conf.Keys(), conf.Get),
	}
}
