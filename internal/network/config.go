package network

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/transport"
)

// Config configures a Manager. The zero value of every field means its
// default.
type Config struct {
	// ListenAddr is the address to listen on, e.g. "127.0.0.1:0". Listen
	// on a concrete host: Manager.Addr is what peers dial. Required.
	ListenAddr string
	// Network is how the Manager listens and dials. Default: TCP.
	Network transport.Network
	// CreditsPerChannel is the number of messages a producer may have in
	// flight on one channel (sent but not yet released by the consumer). The
	// consumer's Manager decides it. Default 4; at most MaxCreditsPerChannel.
	CreditsPerChannel int
	// Logger receives connection events and dropped frames. Default: discard.
	Logger *slog.Logger
	// OnPeerLost, if set, is called from a network goroutine when a
	// connection to or from a peer Manager breaks unexpectedly: while it
	// carried open channels, or with an error other than a clean EOF. It is
	// called once per broken connection and never during Close. It must not
	// block for long and must not call Manager.Close.
	OnPeerLost func(addr string, err error)

	// testing holds knobs for tests in this package.
	testing struct {
		// closeTimeout bounds how long Close waits for a connection to
		// flush and for the peer to close its end. Default 2s.
		closeTimeout time.Duration
		// helloTimeout bounds the wait for an accepted connection's HELLO.
		// Default 10s.
		helloTimeout time.Duration
		// maxPending bounds the OPENs kept for channels no gate has
		// registered yet. Default 4096.
		maxPending int
		// maxAccepted bounds the live connections peers dialed; one more
		// is closed at once. Default 1024.
		maxAccepted int
	}
}

// MaxCreditsPerChannel is the largest allowed Config.CreditsPerChannel.
const MaxCreditsPerChannel = 1 << 16

// writeQueueLen is the capacity of a dialed connection's frame queue.
const writeQueueLen = 256

// bufSize is the size of each connection's bufio reader and writer.
const bufSize = 64 << 10

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.CreditsPerChannel == 0 {
		c.CreditsPerChannel = 4
	}
	c.Network = transport.Or(c.Network)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.testing.closeTimeout == 0 {
		c.testing.closeTimeout = 2 * time.Second
	}
	if c.testing.helloTimeout == 0 {
		c.testing.helloTimeout = 10 * time.Second
	}
	if c.testing.maxPending == 0 {
		c.testing.maxPending = 4096
	}
	if c.testing.maxAccepted == 0 {
		c.testing.maxAccepted = 1024
	}
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("ListenAddr is empty"))
	}
	if c.CreditsPerChannel < 1 || c.CreditsPerChannel > MaxCreditsPerChannel {
		errs = append(errs, fmt.Errorf("CreditsPerChannel %d is outside [1, %d]", c.CreditsPerChannel, MaxCreditsPerChannel))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("network: invalid config: %w", err)
	}
	return nil
}
