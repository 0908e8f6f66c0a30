package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"

	"github.com/tide-stream/tide/internal/transport"
)

const (
	serviceName   = "tide.Control"
	connectMethod = "/tide.Control/Connect"
)

// Codec is the JSON codec of the control protocol, for grpc.ForceServerCodecV2
// and grpc.ForceCodecV2.
type Codec struct{}

// Name implements encoding.CodecV2.
func (Codec) Name() string { return "tide-json" }

// Marshal implements encoding.CodecV2.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("rpc: marshal %T: %w", v, err)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Unmarshal implements encoding.CodecV2.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := json.Unmarshal(data.Materialize(), v); err != nil {
		return fmt.Errorf("rpc: unmarshal %T: %w", v, err)
	}
	return nil
}

// Stream is one end of a Connect stream.
type Stream interface {
	Send(*Envelope) error
	Recv() (*Envelope, error)
	Context() context.Context
}

// Handler serves Connect streams on the JobManager. It returns when the
// stream should end; the returned error is sent to the TaskManager.
type Handler func(Stream) error

type serverStream struct{ grpc.ServerStream }

func (s serverStream) Send(e *Envelope) error { return s.SendMsg(e) }
func (s serverStream) Recv() (*Envelope, error) {
	e := new(Envelope)
	if err := s.RecvMsg(e); err != nil {
		return nil, err
	}
	return e, nil
}

// NewServer returns a gRPC server with the control service registered.
// MaxMessageSize bounds one control message. Acknowledgements carry
// operator list state and deployments the share of it to restore, inline;
// gRPC's default of 4 MiB is too small for sources with many splits.
const MaxMessageSize = 256 << 20

// MaxStreamsPerConn bounds the streams of one control connection.
const MaxStreamsPerConn = 4

// A TaskManager opens one stream, so a connection may carry few
// (MaxStreamsPerConn); keepalive pings more often than every 5 s, a
// connection idle with no stream, and a transport handshake slower than
// 10 s end the connection.
func NewServer(h Handler, opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.ForceServerCodecV2(Codec{}),
		grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.MaxConcurrentStreams(MaxStreamsPerConn),
		grpc.ConnectionTimeout(10*time.Second),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: time.Minute}))
	s := grpc.NewServer(opts...)
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: serviceName,
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{
			StreamName:    "Connect",
			ServerStreams: true,
			ClientStreams: true,
			Handler: func(_ any, ss grpc.ServerStream) error {
				return h(serverStream{ss})
			},
		}},
	}, nil)
	return s
}

type clientStream struct{ grpc.ClientStream }

func (s clientStream) Send(e *Envelope) error { return s.SendMsg(e) }
func (s clientStream) Recv() (*Envelope, error) {
	e := new(Envelope)
	if err := s.RecvMsg(e); err != nil {
		return nil, err
	}
	return e, nil
}

// Dial returns a client connection to a JobManager's control address over
// nw; nil means TCP through gRPC's own dialer (with its DNS resolver and
// proxy support). Any other Network gets the address as is (gRPC's
// passthrough resolver: no name lookup) and dials it itself.
func Dial(addr string, nw transport.Network) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{}),
			grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
	}
	target := addr
	if nw != nil {
		target = "passthrough:///" + addr
		opts = append(opts, grpc.WithContextDialer(nw.Dial))
	}
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial jobmanager %s: %w", addr, err)
	}
	return cc, nil
}

// Connect opens the control stream on cc. Cancel ctx to close it.
func Connect(ctx context.Context, cc *grpc.ClientConn) (Stream, error) {
	cs, err := cc.NewStream(ctx, &grpc.StreamDesc{StreamName: "Connect", ServerStreams: true, ClientStreams: true}, connectMethod)
	if err != nil {
		return nil, fmt.Errorf("rpc: open control stream: %w", err)
	}
	return clientStream{cs}, nil
}
