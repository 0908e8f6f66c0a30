// Package transport owns how Tide processes reach each other: the
// JobManager's control endpoint (gRPC) and the TaskManagers' data plane.
// In production that is TCP (TCP); in a simulation it is Mem, an in-memory
// network of named hosts whose connections block only on channels, so that a
// whole cluster runs inside one testing/synctest bubble on virtual time, and
// whose faults — a crashed host, a partition, latency — a test controls.
//
// A component takes a Network in its Config; nil means TCP, so production
// wiring names no transport at all.
package transport
