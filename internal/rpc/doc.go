// Package rpc owns the control protocol between the JobManager and its
// TaskManagers: the message types and the gRPC service that carries them.
//
// Each TaskManager opens one bidirectional stream, Connect, and sends a
// Register first; the JobManager answers Registered or Refused. Everything
// after that is asynchronous messages in both directions. The stream is the
// liveness signal: when it breaks (the process died, the connection was
// reset) the JobManager declares the TaskManager lost at once, without
// waiting for heartbeats, which remain for the silent cases.
//
// The service descriptor is written by hand and messages are JSON, passed
// to gRPC as a per-connection codec: no generated code, no global codec
// registry. The control plane carries few, small messages; readability of
// a captured stream matters more than its encoding speed.
package rpc
