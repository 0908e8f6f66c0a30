// Package rest serves the JobManager's REST API, a Flink-compatible subset
// (its endpoints are listed in docs/rest.md), and a small embedded web UI.
//
// The package is a shell: it owns no job state. The JobManager implements
// Backend, whose read methods return snapshots it has published and whose
// command methods hand a command to its loop. Handlers never hold a lock
// across a Backend call and never wait on the JobManager longer than
// Config.CommandTimeout or the client's connection.
//
// # Driving it
//
//  1. Implement Backend. Read methods must be fast and concurrency-safe;
//     command methods must honour ctx. Return ErrNotFound for an unknown job
//     or savepoint request (ErrVertexNotFound, ErrCheckpointNotFound,
//     ErrTaskManagerNotFound for the parts), *BadRequestError for an
//     invalid request, *ConflictError when the job's state forbids the
//     command.
//  2. s := NewServer(Config{Addr: "localhost:8081", Logger: log, Version: v}, backend).
//  3. s.Start() binds the address (the error names it when it is taken) and
//     serves on a goroutine that s owns. s.Addr() reports the bound address.
//  4. s.Close(ctx) shuts down gracefully and waits for that goroutine.
//
// s.Handler() serves the same API without listening, for tests or to mount
// it elsewhere.
//
// # Security
//
// Config.TLS (security.REST's ServerTLS) makes Start serve HTTPS; Config.Auth
// (a *security.REST) guards every route but the web UI's static files with
// the bearer token: a request without it is a 401 with a JSON error and a
// WWW-Authenticate challenge. Start also bounds the connections
// (Config.MaxConnections), the time to send headers
// (Config.ReadHeaderTimeout), the whole request (30 s), idle connections
// (2 min) and the headers (64 KiB); every body is bounded by MaxBodyBytes.
// The web UI asks for the token when an API call is refused and keeps it in
// sessionStorage.
//
// # Endpoints
//
// One file per endpoint, numbered like kfake's handlers; docs/rest.md lists
// them with what they return. The answers have the shapes of Flink's REST
// spec (testdata/flink-spec holds its field lists, which compat_test.go
// checks every answer against):
//
//	GET   /                                            web UI (ui/index.html)
//	GET   /ui/{file...}                                its script, style sheet, vendored uPlot
//	GET   /overview                                    Overview
//	GET   /config                                      version and UI settings
//	GET   /jobmanager/config                           [ConfigEntry]
//	GET   /jobmanager/metrics[?get=a,b]                [Metric]
//	GET   /jobs                                        {"jobs":[{"id","status"}]}
//	GET   /jobs/overview                               {"jobs":[JobSummary]}
//	GET   /jobs/{jobid}                                JobDetail
//	PATCH /jobs/{jobid}[?mode=cancel]                  cancel; 202 {}
//	GET   /jobs/{jobid}/config                         JobConfig
//	GET   /jobs/{jobid}/plan                           {"plan":JobPlan}
//	GET   /jobs/{jobid}/metrics[?get=a,b]              [Metric]
//	GET   /jobs/{jobid}/exceptions                     JobExceptions
//	GET   /jobs/{jobid}/vertices/{vertexid}            VertexDetail
//	GET   /jobs/{jobid}/vertices/{vertexid}/metrics    [Metric]
//	GET   …/vertices/{vertexid}/subtasks/metrics       [{"id","min","max","avg","sum"}]
//	GET   /jobs/{jobid}/checkpoints                    CheckpointStats
//	GET   /jobs/{jobid}/checkpoints/config             CheckpointConfig
//	GET   /jobs/{jobid}/checkpoints/details/{id}       CheckpointRecord
//	GET   /jobs/{jobid}/rescales                       {"rescales":[Rescale]}
//	POST  /jobs/{jobid}/savepoints                     {"target-directory","cancel-job"}; 202 {"request-id"}
//	GET   /jobs/{jobid}/savepoints/{trigger}           {"status":{"id"},"operation":{"location"|"failure-cause"}}
//	POST  /jobs/{jobid}/stop                           {"targetDirectory","drain"}; 202 {"request-id"}
//	GET   /taskmanagers                                {"taskmanagers":[TaskManager]}
//	GET   /taskmanagers/{taskmanagerid}                TaskManagerDetail
//	GET   /taskmanagers/{taskmanagerid}/metrics        [Metric]
//
// # Errors
//
// Every error is JSON {"errors":["…"]}: 400 for a job or vertex id that is
// not 32 lowercase hex characters, a malformed checkpoint id, a malformed or
// unknown-field JSON body, or a bad query parameter; 401 without the bearer
// token (with Config.Auth, before anything else); 404 for unknown paths,
// jobs, vertices, checkpoints, TaskManagers and savepoint requests; 405
// (with Allow) for a wrong method; 409 for a ConflictError; 413 for a body
// over MaxBodyBytes; 503 when a command timed out; 500 otherwise. A panic in
// a handler is logged with its stack and answered 500 without it.
package rest
