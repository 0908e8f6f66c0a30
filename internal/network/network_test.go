package network

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// newManager starts a Manager on a free loopback port, closed at cleanup.
func newManager(t testing.TB, configure ...func(*Config)) *Manager {
	t.Helper()
	cfg := Config{ListenAddr: "127.0.0.1:0"}
	for _, f := range configure {
		f(&cfg)
	}
	m, err := Listen(cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

// testCtx bounds every blocking call of a test.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond, for conditions of the network that have no event to
// wait on (a frame arrived at the other Manager).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func seqPayload(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

func chanID(attempt uint64, producer uint32) ChannelID {
	return ChannelID{Attempt: attempt, Edge: 1, Producer: producer, Consumer: 0}
}

// topology returns the producer and consumer Managers: the same one for a
// local channel.
type topology struct {
	name   string
	remote bool
}

var topologies = []topology{{"local", false}, {"remote", true}}

func (tp topology) managers(t *testing.T, configure ...func(*Config)) (prod, cons *Manager) {
	cons = newManager(t, configure...)
	if !tp.remote {
		return cons, cons
	}
	return newManager(t, configure...), cons
}

func TestDeliversInOrderThenEOF(t *testing.T) {
	const channels, messages = 3, 500
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			ctx := testCtx(t)
			prod, cons := tp.managers(t)
			ids := make([]ChannelID, channels)
			for i := range ids {
				ids[i] = chanID(1, uint32(i))
			}
			g, err := cons.OpenInput(ids)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()

			var wg sync.WaitGroup
			errs := make(chan error, channels)
			for _, id := range ids {
				wg.Go(func() {
					o, err := prod.OpenOutput(ctx, id, cons.Addr())
					if err != nil {
						errs <- err
						return
					}
					for i := range messages {
						if err := o.Send(ctx, byte(i%3), seqPayload(i)); err != nil {
							errs <- err
							return
						}
					}
					if err := o.Close(); err != nil {
						errs <- err
					}
				})
			}

			next := make([]int, channels)
			for {
				msg, err := g.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				got := int(binary.BigEndian.Uint64(msg.Payload))
				if got != next[msg.Channel] || msg.Kind != byte(got%3) {
					t.Fatalf("channel %d: got message %d kind %d, want %d", msg.Channel, got, msg.Kind, next[msg.Channel])
				}
				next[msg.Channel]++
				g.Release(msg.Channel)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("producer: %v", err)
			}
			for ch, n := range next {
				if n != messages {
					t.Errorf("channel %d delivered %d messages, want %d", ch, n, messages)
				}
			}
			if _, err := g.Next(ctx); err != io.EOF {
				t.Fatalf("Next after EOF = %v, want io.EOF", err)
			}
		})
	}
}

func TestLocalPassesPayloadSlice(t *testing.T) {
	ctx := testCtx(t)
	m := newManager(t)
	g, err := m.OpenInput([]ChannelID{chanID(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	o, err := m.OpenOutput(ctx, chanID(1, 0), m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p := []byte("zero copy")
	if err := o.Send(ctx, 1, p); err != nil {
		t.Fatal(err)
	}
	msg, err := g.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if &msg.Payload[0] != &p[0] {
		t.Fatal("local channel copied the payload")
	}
}

// TestBackpressurePerChannel: a consumer that does not release channel 0
// stops its producer after CreditsPerChannel messages, while channel 1 on the
// same connection keeps flowing.
func TestBackpressurePerChannel(t *testing.T) {
	const credits = 3
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			ctx := testCtx(t)
			prod, cons := tp.managers(t, func(c *Config) { c.CreditsPerChannel = credits })
			ids := []ChannelID{chanID(1, 0), chanID(1, 1)}
			g, err := cons.OpenInput(ids)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			o0, err := prod.OpenOutput(ctx, ids[0], cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			o1, err := prod.OpenOutput(ctx, ids[1], cons.Addr())
			if err != nil {
				t.Fatal(err)
			}

			// The consumer releases channel 1 at once and holds channel 0.
			held := make(chan Message, 100)
			var consumer sync.WaitGroup
			consumer.Go(func() {
				for {
					msg, err := g.Next(ctx)
					if err != nil {
						close(held)
						return
					}
					if msg.Channel == 0 {
						held <- msg
						continue
					}
					g.Release(msg.Channel)
				}
			})

			for i := range credits {
				if err := o0.Send(ctx, 0, seqPayload(i)); err != nil {
					t.Fatal(err)
				}
			}
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			err = o0.Send(short, 0, seqPayload(credits))
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send beyond credits = %v, want context.DeadlineExceeded", err)
			}
			for i := range 200 {
				if err := o1.Send(ctx, 0, seqPayload(i)); err != nil {
					t.Fatalf("channel 1 blocked behind channel 0: %v", err)
				}
			}
			if c := o0.Credits(); c != 0 {
				t.Fatalf("channel 0 has %d credits while its consumer holds every message", c)
			}
			for range credits {
				msg := <-held
				g.Release(msg.Channel)
			}
			if err := o0.Send(ctx, 0, seqPayload(credits)); err != nil {
				t.Fatalf("Send after Release: %v", err)
			}
			if len(held) > 1 {
				t.Fatalf("consumer got %d more messages than credits", len(held)-1)
			}
			g.Close()
			consumer.Wait()
		})
	}
}

func TestOpenBeforeInput(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			ctx := testCtx(t)
			prod, cons := tp.managers(t)
			id, closedID := chanID(1, 0), chanID(1, 1)
			o, err := prod.OpenOutput(ctx, id, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			// A channel opened and closed before its gate exists still ends
			// gracefully.
			oc, err := prod.OpenOutput(ctx, closedID, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if err := oc.Close(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "pending OPENs", func() bool {
				cons.mu.Lock()
				defer cons.mu.Unlock()
				return len(cons.mu.pending) == 2 && cons.mu.pending[closedID].closed
			})
			sent := make(chan error, 1)
			go func() {
				err := o.Send(ctx, 0, []byte("first"))
				if err == nil {
					err = o.Close()
				}
				sent <- err
			}()
			if c := o.Credits(); c != 0 {
				t.Fatalf("producer has %d credits before the gate opened", c)
			}
			g, err := cons.OpenInput([]ChannelID{closedID, id})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			msg, err := g.Next(ctx)
			if err != nil || msg.Channel != 1 || string(msg.Payload) != "first" {
				t.Fatalf("Next = %+v, %v; want channel 1 \"first\"", msg, err)
			}
			g.Release(msg.Channel)
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			if _, err := g.Next(ctx); err != io.EOF {
				t.Fatalf("Next = %v, want io.EOF", err)
			}
		})
	}
}

func TestFencing(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			ctx := testCtx(t)
			prod, cons := tp.managers(t)

			// Attempt 1 is running: gate open, one message delivered.
			running := chanID(1, 0)
			g1, err := cons.OpenInput([]ChannelID{running})
			if err != nil {
				t.Fatal(err)
			}
			defer g1.Close()
			o1, err := prod.OpenOutput(ctx, running, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if err := o1.Send(ctx, 0, []byte("a")); err != nil {
				t.Fatal(err)
			}
			// Attempt 2's producer is early: its OPEN is pending.
			early := chanID(2, 0)
			o2, err := prod.OpenOutput(ctx, early, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "pending OPEN", func() bool {
				cons.mu.Lock()
				defer cons.mu.Unlock()
				return cons.mu.pending[early] != nil
			})

			cons.FenceBelow(3)

			assertFenced := func(what string, err error) {
				t.Helper()
				var ce *ChannelError
				if !errors.Is(err, ErrFenced) || !errors.As(err, &ce) {
					t.Fatalf("%s = %v, want a *ChannelError wrapping ErrFenced", what, err)
				}
			}
			msg, err := g1.Next(ctx)
			if err != nil || string(msg.Payload) != "a" {
				t.Fatalf("Next = %+v, %v; want the message sent before the fence", msg, err)
			}
			_, err = g1.Next(ctx)
			assertFenced("gate Next", err)
			for range 10 { // the REJECT arrives asynchronously
				if err = o1.Send(ctx, 0, nil); err != nil {
					break
				}
			}
			assertFenced("Send on running channel", err)
			assertFenced("Send on pending channel", o2.Send(ctx, 0, nil))

			// A new OPEN for an old attempt is refused too.
			o3, err := prod.OpenOutput(ctx, chanID(2, 1), cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			assertFenced("Send on new old-attempt channel", o3.Send(ctx, 0, nil))
			if _, err := cons.OpenInput([]ChannelID{chanID(2, 1)}); !errors.Is(err, ErrFenced) {
				t.Fatalf("OpenInput below fence = %v, want ErrFenced", err)
			}

			// The current attempt still works.
			cur := chanID(3, 0)
			g3, err := cons.OpenInput([]ChannelID{cur})
			if err != nil {
				t.Fatal(err)
			}
			defer g3.Close()
			o4, err := prod.OpenOutput(ctx, cur, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if err := o4.Send(ctx, 0, []byte("b")); err != nil {
				t.Fatal(err)
			}
			if msg, err := g3.Next(ctx); err != nil || string(msg.Payload) != "b" {
				t.Fatalf("Next on current attempt = %+v, %v", msg, err)
			}
		})
	}
}

func TestGateCloseRejectsProducer(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			ctx := testCtx(t)
			prod, cons := tp.managers(t)
			id := chanID(1, 0)
			g, err := cons.OpenInput([]ChannelID{id})
			if err != nil {
				t.Fatal(err)
			}
			o, err := prod.OpenOutput(ctx, id, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Send(ctx, 0, nil); err != nil {
				t.Fatal(err)
			}
			g.Close()
			if _, err := g.Next(ctx); !errors.Is(err, ErrClosed) {
				t.Fatalf("Next after Close = %v, want ErrClosed", err)
			}
			for range 10 {
				if err = o.Send(ctx, 0, nil); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("Send after gate Close = %v, want ErrRejected", err)
			}
		})
	}
}

func TestDuplicateChannelRejected(t *testing.T) {
	ctx := testCtx(t)
	cons := newManager(t)
	a, b := newManager(t), newManager(t)
	id := chanID(1, 0)
	g, err := cons.OpenInput([]ChannelID{id})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	oa, err := a.OpenOutput(ctx, id, cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := oa.Send(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	ob, err := b.OpenOutput(ctx, id, cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(ctx, 0, nil); !errors.Is(err, ErrRejected) {
		t.Fatalf("Send from second producer = %v, want ErrRejected", err)
	}
	if _, err := cons.OpenInput([]ChannelID{id}); err == nil {
		t.Fatal("second gate over the same channel was accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{ListenAddr: "127.0.0.1:0"}, true},
		{"no address", Config{}, false},
		{"negative credits", Config{ListenAddr: "127.0.0.1:0", CreditsPerChannel: -1}, false},
		{"too many credits", Config{ListenAddr: "127.0.0.1:0", CreditsPerChannel: MaxCreditsPerChannel + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.EnsureDefaults()
			if err := cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestReset: a TaskManager that registers with another JobManager resets its
// fence: the old JobManager's channels end, and the new one's attempts, which
// may be numbered below the old fence, are served.
func TestReset(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			ctx := testCtx(t)
			prod, cons := tp.managers(t)
			old := chanID(5, 0)
			g, err := cons.OpenInput([]ChannelID{old})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			cons.FenceBelow(5)

			cons.Reset()
			if _, err := g.Next(ctx); !errors.Is(err, ErrFenced) {
				t.Fatalf("Next on a channel of the old jobmanager = %v, want ErrFenced", err)
			}
			low := chanID(1, 0)
			g1, err := cons.OpenInput([]ChannelID{low})
			if err != nil {
				t.Fatalf("OpenInput of attempt 1 after Reset: %v", err)
			}
			defer g1.Close()
			o, err := prod.OpenOutput(ctx, low, cons.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Send(ctx, 0, []byte("new")); err != nil {
				t.Fatal(err)
			}
			if msg, err := g1.Next(ctx); err != nil || string(msg.Payload) != "new" {
				t.Fatalf("Next = %+v, %v; want the new jobmanager's message", msg, err)
			}
		})
	}
}
