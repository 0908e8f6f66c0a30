package rpc

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/transport"
)

// TestConnectRoundTrip runs the control service over real loopback TCP and
// checks that envelopes cross both ways and that the server sees the
// client's cancellation as an ended stream.
func TestConnectRoundTrip(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, lis, nil)
}

// TestConnectRoundTripSimulated runs the same over the in-memory network in
// a synctest bubble: gRPC, client and server, needs no goroutine or timer
// from outside the bubble, and every goroutine it starts ends at Stop and
// Close (synctest.Test fails otherwise).
func TestConnectRoundTripSimulated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := transport.NewMem(transport.MemConfig{})
		lis, err := m.Host("jobmanager").Listen(":0")
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, lis, m.Host("tm"))
		if ls, cs := m.Open(); ls != 0 || cs != 0 {
			t.Errorf("%d listeners and %d connections left open", ls, cs)
		}
	})
}

func roundTrip(t *testing.T, lis net.Listener, nw transport.Network) {
	ended := make(chan error, 1)
	srv := NewServer(func(s Stream) error {
		env, err := s.Recv()
		if err != nil {
			return err
		}
		if env.Register == nil || env.Register.Slots != 2 {
			t.Errorf("got %+v", env)
		}
		if err := s.Send(&Envelope{Registered: &Registered{RegistrationID: "r1"}}); err != nil {
			return err
		}
		_, err = s.Recv()
		ended <- err
		return nil
	})
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(lis)
	}()
	defer func() {
		srv.Stop()
		<-served
	}()

	cc, err := Dial(lis.Addr().String(), nw)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := Connect(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&Envelope{Register: &Register{ResourceID: "tm", Slots: 2}}); err != nil {
		t.Fatal(err)
	}
	env, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if env.Registered == nil || env.Registered.RegistrationID != "r1" {
		t.Fatalf("got %+v", env)
	}
	cancel()
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("server Recv returned nil after client cancel")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not see the stream end")
	}
}
