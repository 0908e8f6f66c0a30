package blob

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Logging wraps a Storage, logs every call at debug level with its key,
// size, duration and error, and counts the bytes read and written (pebble's
// vfs.WithLogging). It is safe for concurrent use.
type Logging struct {
	s      Storage
	logger *slog.Logger

	bytesRead    atomic.Int64
	bytesWritten atomic.Int64
}

var _ Storage = (*Logging)(nil)

// NewLogging returns s wrapped so that every call is logged to logger at
// debug level. A nil logger logs nothing but still counts bytes.
func NewLogging(s Storage, logger *slog.Logger) *Logging {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Logging{s: s, logger: logger}
}

// BytesRead returns the number of bytes returned by Read and ReadRange so
// far.
func (l *Logging) BytesRead() int64 { return l.bytesRead.Load() }

// BytesWritten returns the number of bytes passed to successful Writes so
// far.
func (l *Logging) BytesWritten() int64 { return l.bytesWritten.Load() }

func (l *Logging) log(ctx context.Context, op, key string, start time.Time, err error, attrs ...slog.Attr) {
	if !l.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs = append(attrs, slog.String("key", key), slog.Duration("took", time.Since(start)))
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
	}
	l.logger.LogAttrs(ctx, slog.LevelDebug, "blob "+op, attrs...)
}

// WriteNew implements Storage.
func (l *Logging) WriteNew(ctx context.Context, key string, data []byte) error {
	start := time.Now()
	err := l.s.WriteNew(ctx, key, data)
	if err == nil {
		l.bytesWritten.Add(int64(len(data)))
	}
	l.log(ctx, "write-new", key, start, err, slog.Int("bytes", len(data)))
	return err
}

// Write implements Storage.
func (l *Logging) Write(ctx context.Context, key string, data []byte) error {
	start := time.Now()
	err := l.s.Write(ctx, key, data)
	if err == nil {
		l.bytesWritten.Add(int64(len(data)))
	}
	l.log(ctx, "write", key, start, err, slog.Int("bytes", len(data)))
	return err
}

// Read implements Storage.
func (l *Logging) Read(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	data, err := l.s.Read(ctx, key)
	l.bytesRead.Add(int64(len(data)))
	l.log(ctx, "read", key, start, err, slog.Int("bytes", len(data)))
	return data, err
}

// ReadRange implements Storage.
func (l *Logging) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	start := time.Now()
	data, err := l.s.ReadRange(ctx, key, offset, length)
	l.bytesRead.Add(int64(len(data)))
	l.log(ctx, "read range", key, start, err,
		slog.Int64("offset", offset), slog.Int64("length", length), slog.Int("bytes", len(data)))
	return data, err
}

// List implements Storage.
func (l *Logging) List(ctx context.Context, prefix string) ([]string, error) {
	start := time.Now()
	keys, err := l.s.List(ctx, prefix)
	l.log(ctx, "list", prefix, start, err, slog.Int("keys", len(keys)))
	return keys, err
}

// Delete implements Storage.
func (l *Logging) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := l.s.Delete(ctx, key)
	l.log(ctx, "delete", key, start, err)
	return err
}

// Close implements Storage; it closes the wrapped Storage.
func (l *Logging) Close() error {
	err := l.s.Close()
	l.logger.Debug("blob close", slog.Any("err", err))
	return err
}
