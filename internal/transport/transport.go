package transport

import (
	"context"
	"net"
)

// Network is a way for processes to reach each other: listen on an address,
// dial one. Implementations are safe for concurrent use.
type Network interface {
	// Listen binds addr (host:port; port 0 picks a free port) and returns
	// the listener; its Addr is what peers dial.
	Listen(addr string) (net.Listener, error)
	// Dial connects to addr. Cancelling ctx aborts a dial in progress; it
	// has no effect on the connection once established.
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// TCP is the production Network: plain TCP through package net.
type TCP struct{}

var _ Network = TCP{}

// Listen implements Network.
func (TCP) Listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// Dial implements Network.
func (TCP) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// Or returns n, or TCP if n is nil: what a component does with the Network
// of its Config.
func Or(n Network) Network {
	if n == nil {
		return TCP{}
	}
	return n
}
