// Package network is Tide's data plane: it carries the messages of logical
// channels between subtasks, with per-channel credit-based flow control.
//
// A channel (ChannelID) runs from one producer subtask to one consumer subtask
// over one edge of the job graph, within one attempt of the job. Each
// TaskManager runs one Manager. A producer opens an Output to the consumer's
// Manager address; a consumer opens one InputGate over all its input channels.
// Channels between subtasks of the same Manager skip TCP and hand the payload
// slice itself to the consumer. Remote channels share one TCP connection per
// ordered pair of Managers (dialed lazily by the producer side); credits and
// rejects travel back on that same connection.
//
// Flow control: the consumer grants CreditsPerChannel credits when both the
// producer's OPEN and the consumer's gate are there, and one more per
// Release. Every message costs one credit, so a slow consumer stops only its
// own producers, a gate's queue never holds more than
// channels×(credits+1) entries, and a connection's reader never waits for a
// consumer.
//
// Duties of the caller:
//
//  1. Producer: OpenOutput, then Send messages (ownership of each payload
//     passes to the network), then Close for a graceful end. Send blocks while
//     the channel has no credit; it fails with a *ChannelError when the
//     consumer refused the channel (wrapping ErrFenced for an old attempt) or
//     the connection broke.
//  2. Consumer: OpenInput with every input channel, call Next in a loop, and
//     call Release(msg.Channel) exactly once per message after processing it.
//     Withholding Release on one channel (barrier alignment) applies
//     backpressure to that channel only. Next returns io.EOF when every
//     channel ended gracefully, a *ChannelError for a channel that broke.
//     Close the gate when the subtask ends.
//  3. TaskManager: call FenceBelow(attempt) when a new attempt is deployed so
//     that channels of older attempts are refused, and use Config.OnPeerLost
//     to learn quickly that a peer's connection broke. Close the Manager last.
//
// The wire format is in frame.go: a 26-byte header (length, type, kind,
// channel id) and a payload; frame types HELLO, OPEN, CREDIT, DATA, CLOSE and
// REJECT.
package network
