package security

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"time"
)

// HTTPErrorLog is the ErrorLog of an HTTP server of Tide: what net/http
// reports goes to h at WARN, except failed TLS handshakes, which anyone who
// can reach the port can cause as often as they like (a scanner, a health
// check that opens a TCP connection): those go at DEBUG, so that strangers
// cannot flood the log.
func HTTPErrorLog(h slog.Handler) *log.Logger {
	return log.New(errorLogWriter{h}, "", 0)
}

type errorLogWriter struct{ h slog.Handler }

func (w errorLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if w.h.Enabled(ctx, level) {
		r := slog.NewRecord(time.Now(), level, msg, 0)
		if err := w.h.Handle(ctx, r); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
