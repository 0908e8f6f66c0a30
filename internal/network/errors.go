package network

import (
	"errors"
	"fmt"
)

// ChannelID names one logical channel: messages from one producer subtask to
// one consumer subtask over one edge of the job graph, in one attempt
// (deployment) of the job.
type ChannelID struct {
	Attempt  uint64
	Edge     uint32
	Producer uint32
	Consumer uint32
}

// String formats the id as "attempt/edge/producer->consumer".
func (id ChannelID) String() string {
	return fmt.Sprintf("%d/%d/%d->%d", id.Attempt, id.Edge, id.Producer, id.Consumer)
}

var (
	// ErrFenced is wrapped by the errors of channels whose attempt is below
	// the consumer manager's fence (see Manager.FenceBelow).
	ErrFenced = errors.New("network: channel fenced")
	// ErrRejected is wrapped by the errors of channels the consumer refused
	// for a reason other than fencing: a duplicate channel, a closed gate, or
	// too many channels waiting for their gate.
	ErrRejected = errors.New("network: channel rejected")
	// ErrClosed is wrapped by the errors of channels, gates and calls cut
	// short because a Manager, gate or output was closed.
	ErrClosed = errors.New("network: closed")
)

// ChannelError reports the failure of one channel: its connection broke before
// the channel was closed, or the consumer refused it. Err says why; it wraps
// ErrFenced, ErrRejected or ErrClosed where those apply.
type ChannelError struct {
	ID     ChannelID
	Remote string // address of the peer Manager
	Err    error
}

// Error implements error.
func (e *ChannelError) Error() string {
	return fmt.Sprintf("network: channel %v with %s: %v", e.ID, e.Remote, e.Err)
}

// Unwrap returns e.Err.
func (e *ChannelError) Unwrap() error { return e.Err }

// rejectError is the cause a producer reports for a REJECT with reason r.
func rejectError(r byte) error {
	switch r {
	case rejectFenced:
		return ErrFenced
	case rejectDuplicate:
		return fmt.Errorf("%w: channel already open", ErrRejected)
	case rejectClosed:
		return fmt.Errorf("%w: consumer gate closed: %w", ErrRejected, ErrClosed)
	case rejectOverload:
		return fmt.Errorf("%w: too many channels waiting for their consumer", ErrRejected)
	}
	return fmt.Errorf("%w: reason %d", ErrRejected, r)
}
