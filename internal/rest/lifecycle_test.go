package rest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStartServeClose(t *testing.T) {
	s := NewServer(Config{Addr: "127.0.0.1:0"}, populatedBackend())
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}

	s = NewServer(Config{Addr: "127.0.0.1:0"}, populatedBackend())
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	addr := s.Addr()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr() = %q, want the bound port", addr)
	}
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	getObject(t, "http://"+addr+"/overview")

	// A second server on the same address fails and names it.
	s2 := NewServer(Config{Addr: addr}, populatedBackend())
	err := s2.Start()
	if err == nil {
		_ = s2.Close(t.Context())
		t.Fatalf("Start on taken address %s succeeded", addr)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name %s", err, addr)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", addr)
	}
}

// Close gives up on a request stuck in the Backend when its context ends,
// and still returns once the serving goroutine is done.
func TestCloseWithStuckRequest(t *testing.T) {
	f := populatedBackend()
	f.blockCommands = true
	f.blocked = make(chan struct{}, 1)
	s := NewServer(Config{Addr: "127.0.0.1:0", CommandTimeout: time.Minute}, f)
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPatch, "http://"+s.Addr()+"/jobs/"+jobA, nil)
		if err == nil {
			var resp *http.Response
			resp, err = http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}
		errc <- err
	}()
	select {
	case <-f.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the backend")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want a deadline error", err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Error("stuck request got a response after its connection was closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client request did not end after Close")
	}
}
