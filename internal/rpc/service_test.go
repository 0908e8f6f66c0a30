package rpc

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestConnectRoundTrip runs the control service over real loopback TCP and
// checks that envelopes cross both ways and that the server sees the
// client's cancellation as an ended stream.
func TestConnectRoundTrip(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
	go srv.Serve(lis)
	defer srv.Stop()

	cc, err := Dial(lis.Addr().String())
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
