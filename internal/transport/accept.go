package transport

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// Accept returns ln's next connection for an accept loop. A transient
// error (EMFILE, ECONNABORTED) is logged and retried after a short pause;
// ok is false once ln is closed or closing is.
func Accept(ln net.Listener, closing <-chan struct{}, log *slog.Logger) (c net.Conn, ok bool) {
	for {
		c, err := ln.Accept()
		if err == nil {
			return c, true
		}
		select {
		case <-closing:
			return nil, false
		default:
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, false
		}
		log.Warn("accept failed", "err", err)
		select {
		case <-time.After(50 * time.Millisecond):
		case <-closing:
			return nil, false
		}
	}
}
