package blob

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// Opener opens the Storage at a URL. Open is the production Opener; a
// simulation passes one that hands every process the same store (Share).
type Opener func(ctx context.Context, rawURL string) (Storage, error)

// OpenerOr returns o, or Open if o is nil: what a component does with the
// Opener of its Config.
func OpenerOr(o Opener) Opener {
	if o == nil {
		return Open
	}
	return o
}

// ErrHandleClosed is wrapped by the errors of a Shared handle used after
// its Close.
var ErrHandleClosed = errors.New("blob: storage handle closed")

// Share returns an Opener whose every call returns a new handle on s,
// whatever the URL: the processes of a simulated cluster share one store
// as real ones share a bucket. Each handle's Close ends that handle only;
// s stays open for the others, and its owner closes it.
func Share(s Storage) Opener {
	return func(context.Context, string) (Storage, error) { return &handle{s: s}, nil }
}

// handle is one process's view of a shared Storage.
type handle struct {
	s      Storage
	closed atomic.Bool
}

func (h *handle) check(op, key string) error {
	if h.closed.Load() {
		return fmt.Errorf("blob: %s %q: %w", op, key, ErrHandleClosed)
	}
	return nil
}

func (h *handle) Write(ctx context.Context, key string, data []byte) error {
	if err := h.check("write", key); err != nil {
		return err
	}
	return h.s.Write(ctx, key, data)
}

func (h *handle) WriteNew(ctx context.Context, key string, data []byte) error {
	if err := h.check("write", key); err != nil {
		return err
	}
	return h.s.WriteNew(ctx, key, data)
}

func (h *handle) Read(ctx context.Context, key string) ([]byte, error) {
	if err := h.check("read", key); err != nil {
		return nil, err
	}
	return h.s.Read(ctx, key)
}

func (h *handle) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if err := h.check("read", key); err != nil {
		return nil, err
	}
	return h.s.ReadRange(ctx, key, offset, length)
}

func (h *handle) List(ctx context.Context, prefix string) ([]string, error) {
	if err := h.check("list", prefix); err != nil {
		return nil, err
	}
	return h.s.List(ctx, prefix)
}

func (h *handle) Delete(ctx context.Context, key string) error {
	if err := h.check("delete", key); err != nil {
		return err
	}
	return h.s.Delete(ctx, key)
}

// Close ends this handle; the shared Storage stays open.
func (h *handle) Close() error {
	if !h.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("blob: close: %w", ErrHandleClosed)
	}
	return nil
}
