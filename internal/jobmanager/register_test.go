package jobmanager

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/rpc"
)

// silentStream is a control stream whose peer never sends: Recv blocks
// until the stream ends.
type silentStream struct{ ctx context.Context }

func (s silentStream) Send(*rpc.Envelope) error { return nil }
func (s silentStream) Recv() (*rpc.Envelope, error) {
	<-s.ctx.Done()
	return nil, s.ctx.Err()
}
func (s silentStream) Context() context.Context { return s.ctx }

func TestSilentStreamIsDropped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	_, err := recvFirst(silentStream{ctx}, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no registration within") {
		t.Fatalf("recvFirst = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("recvFirst took %v", d)
	}
}
