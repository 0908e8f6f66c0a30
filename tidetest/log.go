package tidetest

import (
	"bytes"
	"log/slog"
	"testing"
)

// newTestHandler returns a handler that writes records of level and above
// to t.Log, one text line each. The text handler serializes its writes and
// t.Log is safe for concurrent use.
func newTestHandler(t testing.TB, level slog.Level) slog.Handler {
	return slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level})
}

// testWriter writes to t.Log; the text handler writes each record with a
// single Write.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
