package network

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Wire format. Every frame is a fixed 26-byte header followed by a payload:
//
//	offset size field
//	0      4    payload length (big endian), at most MaxPayload
//	4      1    frame type (frameType)
//	5      1    DATA: message kind; REJECT: reject reason; otherwise 0
//	6      8    channel attempt
//	14     4    channel edge
//	18     4    channel producer subtask
//	22     4    channel consumer subtask
//	26     n    payload
//
// Payloads by type: OPEN, CLOSE and REJECT have none; CREDIT carries a non-zero
// uint32 credit count; DATA carries the message; HELLO (the dialer's first
// frame) carries protocolVersion followed by the dialer's listen address.
const (
	headerLen = 26

	// MaxPayload is the largest payload a frame may carry. Larger lengths are
	// rejected by the decoder as garbage.
	MaxPayload = 64 << 20

	protocolVersion = 1
	maxAddrLen      = 255
	// eagerAlloc is the largest payload allocated before its bytes arrive;
	// larger payloads grow as data is read, so a garbage length cannot make
	// the reader allocate 64 MiB up front.
	eagerAlloc = 1 << 20
)

// frameType is the second header field.
type frameType byte

const (
	frameOpen   frameType = 1 // producer → consumer: channel opens
	frameCredit frameType = 2 // consumer → producer: n more messages may be sent
	frameData   frameType = 3 // producer → consumer: one message
	frameClose  frameType = 4 // producer → consumer: graceful end after all DATA
	frameReject frameType = 5 // consumer → producer: channel refused
	frameHello  frameType = 6 // dialer → acceptor, first frame: who is dialing
)

func (t frameType) String() string {
	switch t {
	case frameOpen:
		return "OPEN"
	case frameCredit:
		return "CREDIT"
	case frameData:
		return "DATA"
	case frameClose:
		return "CLOSE"
	case frameReject:
		return "REJECT"
	case frameHello:
		return "HELLO"
	}
	return fmt.Sprintf("frameType(%d)", byte(t))
}

// Reject reasons, carried in the kind byte of a REJECT frame.
const (
	rejectFenced    byte = 1 // attempt below the consumer's fence
	rejectDuplicate byte = 2 // channel already opened by another producer
	rejectClosed    byte = 3 // consumer gate or manager closed
	rejectOverload  byte = 4 // too many OPENs waiting for their gate
	maxRejectReason      = rejectOverload
)

// errShortFrame is returned by decodeFrame when b ends inside a frame.
var errShortFrame = errors.New("network: short frame")

// errBadFrame marks a frame that is malformed, as opposed to truncated.
var errBadFrame = errors.New("network: malformed frame")

// frame is one decoded frame. Which fields are meaningful depends on typ.
type frame struct {
	typ     frameType
	kind    byte // DATA kind or REJECT reason
	id      ChannelID
	credits uint32 // CREDIT only
	payload []byte // DATA payload; HELLO address
}

// payloadLen is the length the header announces for f.
func (f *frame) payloadLen() int {
	switch f.typ {
	case frameCredit:
		return 4
	case frameData:
		return len(f.payload)
	case frameHello:
		return 1 + len(f.payload)
	}
	return 0
}

// putHeader encodes f's header into h.
func putHeader(h *[headerLen]byte, f *frame) {
	binary.BigEndian.PutUint32(h[0:4], uint32(f.payloadLen()))
	h[4] = byte(f.typ)
	h[5] = f.kind
	binary.BigEndian.PutUint64(h[6:14], f.id.Attempt)
	binary.BigEndian.PutUint32(h[14:18], f.id.Edge)
	binary.BigEndian.PutUint32(h[18:22], f.id.Producer)
	binary.BigEndian.PutUint32(h[22:26], f.id.Consumer)
}

// appendFrame appends the encoding of f to dst. Used by tests; the connection
// writer uses writeFrame to avoid copying payloads.
func appendFrame(dst []byte, f frame) []byte {
	var h [headerLen]byte
	putHeader(&h, &f)
	dst = append(dst, h[:]...)
	return appendPayload(dst, &f)
}

func appendPayload(dst []byte, f *frame) []byte {
	switch f.typ {
	case frameCredit:
		return binary.BigEndian.AppendUint32(dst, f.credits)
	case frameData:
		return append(dst, f.payload...)
	case frameHello:
		dst = append(dst, protocolVersion)
		return append(dst, f.payload...)
	}
	return dst
}

// writeFrame writes f to w, using h as scratch space for the header.
func writeFrame(w *bufio.Writer, h *[headerLen]byte, f *frame) error {
	putHeader(h, f)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	switch f.typ {
	case frameData:
		_, err := w.Write(f.payload)
		return err
	case frameCredit:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], f.credits)
		_, err := w.Write(b[:])
		return err
	case frameHello:
		if err := w.WriteByte(protocolVersion); err != nil {
			return err
		}
		_, err := w.Write(f.payload)
		return err
	}
	return nil
}

// parseHeader decodes and validates a header. It returns the frame (without
// payload) and the payload length.
func parseHeader(h *[headerLen]byte) (frame, int, error) {
	n := binary.BigEndian.Uint32(h[0:4])
	f := frame{
		typ:  frameType(h[4]),
		kind: h[5],
		id: ChannelID{
			Attempt:  binary.BigEndian.Uint64(h[6:14]),
			Edge:     binary.BigEndian.Uint32(h[14:18]),
			Producer: binary.BigEndian.Uint32(h[18:22]),
			Consumer: binary.BigEndian.Uint32(h[22:26]),
		},
	}
	if n > MaxPayload {
		return frame{}, 0, fmt.Errorf("%w: %v payload of %d bytes exceeds %d", errBadFrame, f.typ, n, MaxPayload)
	}
	var ok bool
	switch f.typ {
	case frameOpen, frameClose:
		ok = n == 0 && f.kind == 0
	case frameReject:
		ok = n == 0 && f.kind >= 1 && f.kind <= maxRejectReason
	case frameCredit:
		ok = n == 4 && f.kind == 0
	case frameData:
		ok = true
	case frameHello:
		ok = n >= 1 && n <= 1+maxAddrLen && f.kind == 0 && f.id == ChannelID{}
	default:
		return frame{}, 0, fmt.Errorf("%w: unknown frame type %d", errBadFrame, byte(f.typ))
	}
	if !ok {
		return frame{}, 0, fmt.Errorf("%w: %v with kind %d and payload of %d bytes", errBadFrame, f.typ, f.kind, n)
	}
	return f, int(n), nil
}

// setPayload validates p against f's type and stores it in f. p is retained
// for DATA and HELLO.
func setPayload(f *frame, p []byte) error {
	switch f.typ {
	case frameCredit:
		f.credits = binary.BigEndian.Uint32(p)
		if f.credits == 0 {
			return fmt.Errorf("%w: CREDIT of 0 for channel %v", errBadFrame, f.id)
		}
	case frameData:
		f.payload = p
	case frameHello:
		if p[0] != protocolVersion {
			return fmt.Errorf("%w: HELLO with protocol version %d, want %d", errBadFrame, p[0], protocolVersion)
		}
		f.payload = p[1:]
	}
	return nil
}

// decodeFrame decodes one frame from the front of b and returns it with the
// number of bytes used. It returns errShortFrame if b ends inside the frame
// and an error wrapping errBadFrame if the frame is malformed. The returned
// payload aliases b.
func decodeFrame(b []byte) (frame, int, error) {
	if len(b) < headerLen {
		return frame{}, 0, errShortFrame
	}
	f, n, err := parseHeader((*[headerLen]byte)(b[:headerLen]))
	if err != nil {
		return frame{}, 0, err
	}
	if len(b)-headerLen < n {
		return frame{}, 0, errShortFrame
	}
	if err := setPayload(&f, b[headerLen:headerLen+n:headerLen+n]); err != nil {
		return frame{}, 0, err
	}
	return f, headerLen + n, nil
}

// readFrame reads one frame from r, using h as scratch space. The payload is
// freshly allocated, so the caller owns it. A stream that ends inside a frame
// gives io.ErrUnexpectedEOF; one that ends between frames gives io.EOF.
func readFrame(r *bufio.Reader, h *[headerLen]byte) (frame, error) {
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, err
	}
	f, n, err := parseHeader(h)
	if err != nil {
		return frame{}, err
	}
	if n == 0 {
		return f, nil
	}
	p, err := readPayload(r, n)
	if err != nil {
		return frame{}, fmt.Errorf("read %v payload of %d bytes: %w", f.typ, n, err)
	}
	if err := setPayload(&f, p); err != nil {
		return frame{}, err
	}
	return f, nil
}

// readPayload reads exactly n bytes. Up to eagerAlloc bytes are allocated at
// once; beyond that the buffer grows only as bytes arrive.
func readPayload(r io.Reader, n int) ([]byte, error) {
	if n <= eagerAlloc {
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, noEOF(err)
		}
		return p, nil
	}
	p := make([]byte, 0, eagerAlloc)
	for len(p) < n {
		if len(p) == cap(p) {
			p = slices.Grow(p, min(cap(p), n-len(p)))
		}
		chunk := p[len(p):min(cap(p), n)]
		k, err := io.ReadFull(r, chunk)
		p = p[:len(p)+k]
		if err != nil {
			return nil, noEOF(err)
		}
	}
	return p, nil
}

// noEOF turns a clean EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
