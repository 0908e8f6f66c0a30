// Package topspeed is Flink 1.13's TopSpeedWindowing example on Tide: the
// job (Build, in job.go, on Tide's event time and windows), and what does
// not need the engine: its events and their text form, the car source, the
// input parser, and a plain-Go reference of the results that the job must
// produce (Reference, TopSpeeds), which the job's tests compare it with.
//
// # The example
//
// Flink's job (flink-examples-streaming, windowing/TopSpeedWindowing.java)
// is, per car:
//
//	carData
//	  .assignTimestampsAndWatermarks(forMonotonousTimestamps, timestamp = f3)
//	  .keyBy(carId)
//	  .window(GlobalWindows.create())
//	  .evictor(TimeEvictor.of(10 s))
//	  .trigger(DeltaTrigger.of(50, (old, new) -> new.f2 - old.f2, ...))
//	  .maxBy(1)
//
// and prints every result with Tuple4.toString. CarWindow documents the
// exact rules of Flink 1.13's EvictingWindowOperator, DeltaTrigger,
// TimeEvictor and ComparableAggregator that this amounts to; Reference and
// TopSpeeds apply them. Only each car's order matters: across cars the
// interleaving of the results is not defined, so compare them car by car.
//
// For the engine: the watermark never decides anything here. GlobalWindows
// is not an event-time assigner, so no event is late or dropped, and its
// window ends at Long.MAX_VALUE, so no cleanup timer is registered and
// nothing fires at the end of the input; the results carry the window's
// maximum timestamp (Long.MAX_VALUE) as their event time. The trigger and
// the window contents are keyed state of the one GlobalWindow, and the
// contents are never purged, only evicted when the trigger fires.
//
// # Text form
//
// Event.String and AppendText print "(carId,speed,distance,timestamp)" with
// the distance in Java's Double.toString form (FormatJavaDouble), the
// example's output format; ParseEvent and Reader read it back, with the
// parentheses optional, for --input. Generator is Flink's CarSource for
// --cars, deterministic given a seed and the times passed to it.
package topspeed
