package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
)

// errorBody is the JSON shape of every error response, as Flink's.
type errorBody struct {
	Errors []string `json:"errors"`
}

// writeJSON encodes body as the response with status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// The encoder's error names Go types and values: log it, and tell
		// the client only what failed.
		s.log.Error("encode response", "method", r.Method, "path", r.URL.Path, "err", err)
		s.writeErrorStatus(w, r, http.StatusInternalServerError, "internal error encoding the response to "+r.Method+" "+truncate(r.URL.Path, 256))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError answers err with the status statusOf chooses.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	s.writeErrorStatus(w, r, status, msg)
}

// writeErrorStatus answers with a JSON error body.
func (s *Server) writeErrorStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	b, _ := json.Marshal(errorBody{Errors: []string{msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// statusOf maps an error to an HTTP status and the message to show.
func statusOf(err error) (int, string) {
	var (
		bad      *BadRequestError
		conflict *ConflictError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &bad):
		return http.StatusBadRequest, bad.Msg
	case errors.As(err, &conflict):
		return http.StatusConflict, conflict.Msg
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, strings.ReplaceAll(err.Error(), ErrNotFound.Error(), "not found")
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timed out waiting for the JobManager: " + err.Error()
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "request canceled: " + err.Error()
	default:
		return http.StatusInternalServerError, err.Error()
	}
}

// limitBody bounds every request body to MaxBodyBytes.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a 500 JSON error and a log
// line with the stack; the client never sees the stack. If the handler had
// already started its response, the connection is aborted instead, so that
// the client cannot mistake a truncated answer for a complete one.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's own way to abort a response: let it through
				panic(v)
			}
			s.log.Error("panic in REST handler", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if tw.wrote {
				panic(http.ErrAbortHandler)
			}
			s.writeErrorStatus(w, r, http.StatusInternalServerError, "internal error handling "+r.URL.Path)
		}()
		next.ServeHTTP(tw, r)
	})
}

// trackingWriter remembers whether the response was started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(status int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(status)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// jobIDParam returns the {jobid} path value, checked to be 32 lowercase hex
// characters as Flink's job ids are.
func jobIDParam(r *http.Request) (string, error) {
	id := r.PathValue("jobid")
	if !validJobID(id) {
		return "", badRequestf("invalid job id %q: want 32 lowercase hexadecimal characters", truncate(id, 64))
	}
	return id, nil
}

// validJobID reports whether id is 32 lowercase hex characters.
func validJobID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decodeBody decodes r's JSON body into dst. An empty body leaves dst as it
// is; unknown fields, trailing data and malformed JSON are a
// *BadRequestError; a body over MaxBodyBytes is an *http.MaxBytesError.
func decodeBody(r *http.Request, dst any) error {
	if r.Body == nil {
		return nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequestf("read request body: %v", err)
	}
	return decodeJSON(data, dst)
}

// decodeJSON decodes data (empty or whitespace: nothing) strictly into dst.
func decodeJSON(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequestf("malformed JSON body: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequestf("malformed JSON body: trailing data after the JSON value")
	}
	return nil
}

// commandContext bounds a command's context by Config.CommandTimeout.
func (s *Server) commandContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.CommandTimeout)
}

// wrapJob names the job in a Backend error, keeping its kind for statusOf.
// A not-found is worded by the server alone, "job ID: not found": the
// Backend may have named the job already (the JobManager's does), and its
// wording would repeat the prefix.
func wrapJob(err error, id string) error {
	if errors.Is(err, ErrNotFound) {
		err = ErrNotFound
	}
	return fmt.Errorf("job %s: %w", id, err)
}

// vertexIDParam returns the {vertexid} path value, checked to be 32
// lowercase hex characters as Flink's vertex ids are.
func vertexIDParam(r *http.Request) (string, error) {
	id := r.PathValue("vertexid")
	if !validJobID(id) {
		return "", badRequestf("invalid vertex id %q: want 32 lowercase hexadecimal characters", truncate(id, 64))
	}
	return id, nil
}

// maxTaskManagerID bounds a {taskmanagerid} path value.
const maxTaskManagerID = 256

// taskManagerIDParam returns the {taskmanagerid} path value. Flink's spec
// says a TaskManager id is 32 hex characters, but Flink itself names
// standalone TaskManagers "host:port-suffix" and Kubernetes ones by their
// pod: any non-empty id without control characters is accepted.
func taskManagerIDParam(r *http.Request) (string, error) {
	id := r.PathValue("taskmanagerid")
	if id == "" || len(id) > maxTaskManagerID {
		return "", badRequestf("invalid taskmanager id %q: want 1 to %d characters", truncate(id, 64), maxTaskManagerID)
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f {
			return "", badRequestf("invalid taskmanager id %q: control character", truncate(id, 64))
		}
	}
	return id, nil
}

// checkpointIDParam returns the {checkpointid} path value, a non-negative
// integer (Flink: a long).
func checkpointIDParam(r *http.Request) (int64, error) {
	raw := r.PathValue("checkpointid")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 0 {
		return 0, badRequestf("invalid checkpoint id %q: want a non-negative integer", truncate(raw, 64))
	}
	return id, nil
}

// wrapVertex names the job and the vertex in a Backend error.
func wrapVertex(err error, id, vertexID string) error {
	if errors.Is(err, ErrVertexNotFound) {
		return fmt.Errorf("job %s: vertex %s: %w", id, vertexID, ErrNotFound)
	}
	return wrapJob(err, id)
}

// wrapTaskManager names the TaskManager in a Backend error.
func wrapTaskManager(err error, tmID string) error {
	if errors.Is(err, ErrNotFound) {
		err = ErrNotFound
	}
	return fmt.Errorf("taskmanager %s: %w", truncate(tmID, 64), err)
}

// jsonProblem says what is wrong with a JSON body in the client's terms:
// encoding/json's errors name the Go types of the server ("Go struct field
// savepointTriggerBody.cancel-job of type bool"), which are none of the
// client's business.
func jsonProblem(err error) string {
	var (
		syntax   *json.SyntaxError
		wrongTyp *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.As(err, &wrongTyp):
		field := wrongTyp.Field
		if field == "" {
			return fmt.Sprintf("want %s, got %s", jsonKind(wrongTyp.Type), wrongTyp.Value)
		}
		return fmt.Sprintf("field %q: want %s, got %s", field, jsonKind(wrongTyp.Type), wrongTyp.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of the JSON value"
	}
	// The rest ("json: unknown field \"x\"") say nothing of the server.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another value"
}
