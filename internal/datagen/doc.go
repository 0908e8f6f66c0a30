// Package datagen owns `tide datagen`: load shapes as pure functions of the
// time since the start (shape.go), the payloads (payload.go), and the producer
// loop that paces records against the monotonic clock and produces them to
// Kafka with franz-go (producer.go).
//
// How the loop paces: a rate shape says how many records are due by an
// elapsed time (the integral of its rate, Shape.Due); the loop sends until it
// has sent that many, then waits until the next record is due. The wait is a
// timer to the estimated due time of the next record, never a sleep per
// record, so the rate is exact on average however coarse the timer is. kgo's
// asynchronous Produce with a bounded buffer (Config.Window records) is the
// in-flight window: when the broker is slower than the shape, Produce blocks
// and the loop falls behind; it catches up at most one second's worth of
// records (the rest is dropped from the schedule, and counted) so that a
// shape keeps its form after the broker has been the limit.
//
// The bursts shape is the seed's generator (rmetzger/flink-reactive-mode-k8s-demo,
// DataGen.java, mode cos): N records flat out, then a 15 s pause, N recomputed
// each minute as 50,000 + 50,000·cos(x), x = −3 + 0.04·minute.
//
// The caller (internal/cli) builds a Config and calls Run; Run returns when
// the count or the duration is reached or its context is cancelled, after
// flushing what it produced.
package datagen
