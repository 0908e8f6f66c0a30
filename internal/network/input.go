package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// creditSink is the consumer side's handle on a channel's producer: a
// connection (remote channel) or the Output itself (local channel). Its
// methods are called with Manager.mu held and must not block.
type creditSink interface {
	// grant gives the producer of id n more credits.
	grant(id ChannelID, n int)
	// reject refuses the channel id.
	reject(id ChannelID, reason byte)
	// peer is the producer Manager's address.
	peer() string
}

// inChan is one registered input channel. All fields are guarded by
// Manager.mu.
type inChan struct {
	id   ChannelID
	gate *InputGate
	idx  int
	// sink is set when the channel's OPEN has arrived.
	sink creditSink
	// inflight counts DATA received and not yet released. It never exceeds
	// CreditsPerChannel; a producer that sends more breaks the protocol.
	inflight int
	// done is set when the channel's terminal event (CLOSE or error) has been
	// queued; nothing more is queued and no credits are granted after it.
	done bool
}

// Message is one message received on an input gate.
type Message struct {
	Channel int // index into the ids passed to OpenInput
	Kind    byte
	Payload []byte // owned by the receiver
}

// gateEvent is one entry of a gate's queue: a message, or the end of a
// channel (err nil for a graceful close).
type gateEvent struct {
	msg Message
	end bool
	err error
}

// InputGate receives the messages of one consumer subtask's input channels.
// Next is meant for one goroutine (the subtask's loop); Release and Close may
// be called from any goroutine.
type InputGate struct {
	m     *Manager
	ids   []ChannelID
	chans []*inChan
	// q holds messages and channel ends. Its capacity is
	// len(ids)*(CreditsPerChannel+1): each channel has at most
	// CreditsPerChannel unreleased messages plus one end, so pushes never
	// block and a connection reader never waits for a slow consumer.
	q         chan gateEvent
	closed    chan struct{}
	closeOnce sync.Once

	// Owned by the goroutine calling Next.
	open     int   // channels whose end has not been returned yet
	firstErr error // first channel error, returned again after all ends
}

// OpenInput registers a gate over the channels ids. Channels whose OPEN has
// already arrived get their initial credits now; the others get them when
// their OPEN arrives. It fails if ids is empty, repeats a channel, names a
// channel another gate holds, or names a fenced attempt.
func (m *Manager) OpenInput(ids []ChannelID) (*InputGate, error) {
	if len(ids) == 0 {
		return nil, errors.New("network: open input gate: no channels")
	}
	seen := make(map[ChannelID]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			return nil, fmt.Errorf("network: open input gate: channel %v listed twice", id)
		}
		seen[id] = struct{}{}
	}
	credits := m.cfg.CreditsPerChannel
	g := &InputGate{
		m:      m,
		ids:    append([]ChannelID(nil), ids...),
		chans:  make([]*inChan, len(ids)),
		q:      make(chan gateEvent, len(ids)*(credits+1)),
		closed: make(chan struct{}),
		open:   len(ids),
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return nil, fmt.Errorf("network: open input gate: %w", ErrClosed)
	}
	for _, id := range ids {
		if _, taken := m.mu.inputs[id]; taken {
			return nil, fmt.Errorf("network: open input gate: channel %v is already registered", id)
		}
		if id.Attempt < m.mu.fence {
			return nil, fmt.Errorf("network: open input gate: channel %v below fence %d: %w", id, m.mu.fence, ErrFenced)
		}
	}
	for i, id := range ids {
		ic := &inChan{id: id, gate: g, idx: i}
		g.chans[i] = ic
		m.mu.inputs[id] = ic
		p := m.mu.pending[id]
		if p == nil {
			continue
		}
		delete(m.mu.pending, id)
		ic.sink = p.sink
		if p.closed {
			m.endLocked(ic, nil)
		} else {
			p.sink.grant(id, credits)
		}
	}
	return g, nil
}

// Next returns the next message from any channel, in order per channel. It
// returns io.EOF once every channel has been closed gracefully and its
// messages returned, and a *ChannelError once for each channel that broke
// (connection lost, fenced, Manager closed); after every channel has ended, a
// gate with a broken channel returns the first such error again instead of
// io.EOF. It returns ctx.Err() if ctx ends first, and an error wrapping
// ErrClosed once the gate is closed, even if messages were still queued.
func (g *InputGate) Next(ctx context.Context) (Message, error) {
	for {
		select {
		case <-g.closed:
			return Message{}, fmt.Errorf("network: input gate closed: %w", ErrClosed)
		default:
		}
		if g.open == 0 {
			if g.firstErr != nil {
				return Message{}, g.firstErr
			}
			return Message{}, io.EOF
		}
		var ev gateEvent
		select {
		case ev = <-g.q:
		default:
			select {
			case ev = <-g.q:
			case <-g.closed:
				return Message{}, fmt.Errorf("network: input gate closed: %w", ErrClosed)
			case <-ctx.Done():
				return Message{}, ctx.Err()
			}
		}
		if !ev.end {
			return ev.msg, nil
		}
		g.open--
		if ev.err != nil {
			if g.firstErr == nil {
				g.firstErr = ev.err
			}
			return Message{Channel: ev.msg.Channel}, ev.err
		}
	}
}

// Release returns one credit to the producer of channel (an index into the
// gate's ids). Call it exactly once per message, after processing it. Extra
// calls and bad indexes are ignored.
func (g *InputGate) Release(channel int) {
	if channel < 0 || channel >= len(g.chans) {
		g.m.log.Error("release of unknown channel index", "index", channel, "channels", len(g.chans))
		return
	}
	ic := g.chans[channel]
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if ic.inflight == 0 {
		return
	}
	ic.inflight--
	if !ic.done && ic.sink != nil {
		ic.sink.grant(ic.id, 1)
	}
}

// Backlog returns how many messages and channel ends are queued in the gate
// and the queue's capacity; export them as gauges.
func (g *InputGate) Backlog() (queued, capacity int) { return len(g.q), cap(g.q) }

// Close unregisters the gate. Producers of its channels that have not closed
// yet are rejected: their Send fails with an error wrapping ErrRejected and
// ErrClosed. Messages still queued are dropped.
func (g *InputGate) Close() {
	g.closeOnce.Do(func() {
		close(g.closed)
		m := g.m
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, ic := range g.chans {
			if m.mu.inputs[ic.id] == ic {
				delete(m.mu.inputs, ic.id)
			}
			if !ic.done {
				ic.done = true
				if ic.sink != nil {
					ic.sink.reject(ic.id, rejectClosed)
				}
			}
		}
	})
}

// endLocked queues the end of channel ic: a graceful close if err is nil.
func (m *Manager) endLocked(ic *inChan, err error) {
	if ic.done {
		return
	}
	ic.done = true
	m.pushLocked(ic, gateEvent{msg: Message{Channel: ic.idx}, end: true, err: err})
}

// pushLocked queues ev on ic's gate without blocking.
func (m *Manager) pushLocked(ic *inChan, ev gateEvent) bool {
	select {
	case ic.gate.q <- ev:
		return true
	default:
		// Unreachable while inflight ≤ credits: see InputGate.q.
		m.log.Error("input gate queue full; dropping event", "channel", ic.id, "capacity", cap(ic.gate.q))
		return false
	}
}

// peerOf returns the address of ic's producer Manager, if known.
func (m *Manager) peerOf(ic *inChan) string {
	if ic.sink == nil {
		return ""
	}
	return ic.sink.peer()
}

// handleOpen registers the producer of channel id: at once if its gate is
// open, else as pending.
func (m *Manager) handleOpen(id ChannelID, sink creditSink) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.mu.closed:
		sink.reject(id, rejectClosed)
		return
	case id.Attempt < m.mu.fence:
		m.log.Debug("rejecting fenced channel", "channel", id, "peer", sink.peer(), "fence", m.mu.fence)
		sink.reject(id, rejectFenced)
		return
	}
	if ic := m.mu.inputs[id]; ic != nil {
		if ic.sink != nil || ic.done {
			sink.reject(id, rejectDuplicate)
			return
		}
		ic.sink = sink
		sink.grant(id, m.cfg.CreditsPerChannel)
		return
	}
	if _, dup := m.mu.pending[id]; dup {
		sink.reject(id, rejectDuplicate)
		return
	}
	if len(m.mu.pending) >= m.cfg.testing.maxPending {
		m.log.Warn("too many pending channels; rejecting", "channel", id, "peer", sink.peer())
		sink.reject(id, rejectOverload)
		return
	}
	m.mu.pending[id] = &pendingOpen{sink: sink}
}

// handleData queues one message of channel id. Frames for unknown, ended or
// foreign channels are dropped; it returns an error only if the producer
// broke the credit protocol.
func (m *Manager) handleData(id ChannelID, kind byte, payload []byte, sink creditSink) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ic := m.mu.inputs[id]
	if ic == nil || ic.sink != sink || ic.done {
		m.log.Debug("dropping DATA for unknown channel", "channel", id, "peer", sink.peer())
		return nil
	}
	if ic.inflight >= m.cfg.CreditsPerChannel {
		return fmt.Errorf("channel %v: DATA beyond %d credits", id, m.cfg.CreditsPerChannel)
	}
	ic.inflight++
	m.pushLocked(ic, gateEvent{msg: Message{Channel: ic.idx, Kind: kind, Payload: payload}})
	return nil
}

// handleClose ends channel id gracefully.
func (m *Manager) handleClose(id ChannelID, sink creditSink) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ic := m.mu.inputs[id]; ic != nil && ic.sink == sink {
		m.endLocked(ic, nil)
		return
	}
	if p := m.mu.pending[id]; p != nil && p.sink == sink {
		p.closed = true
		return
	}
	m.log.Debug("dropping CLOSE for unknown channel", "channel", id, "peer", sink.peer())
}
