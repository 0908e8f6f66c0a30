package jobmanager

import (
	"context"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
)

// event is an input to the loop.
type event interface{}

// evRegister asks the loop to admit a TaskManager; the loop answers on reply.
type evRegister struct {
	tm    *tmConn
	reply chan error
}

// evMessage is an envelope from a registered TaskManager.
type evMessage struct {
	reg string
	env any
}

// evGone says a TaskManager's control stream ended.
type evGone struct {
	reg string
	err error
}

// evCommand runs fn on the loop (REST commands).
type evCommand struct {
	fn func()
}

// evPersisted reports a checkpoint's metadata write.
type evPersisted struct {
	id   checkpoint.ID
	path string
	err  error
}

// ioJob is blob IO done off the loop; its result, if any, is an event.
type ioJob func(ctx context.Context) event

// async queues blob IO for the worker without blocking the loop. It reports
// false if the queue is full.
func (jm *JobManager) async(j ioJob) bool {
	select {
	case jm.io <- j:
		return true
	default:
		return false
	}
}

// ioWorker runs the loop's blob IO in order. Owner: Run, which closes
// jm.io's context and waits for it.
func (jm *JobManager) ioWorker(ctx context.Context) {
	for {
		select {
		case j := <-jm.io:
			if ev := j(ctx); ev != nil {
				select {
				case jm.events <- ev:
				case <-ctx.Done():
					return
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

const tickInterval = 20 * time.Millisecond

// loop is the JobManager's one owner goroutine.
func (jm *JobManager) loop(ctx context.Context) error {
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	jm.stepSched(schedStart())
	jm.drain(ctx)
	for {
		select {
		case <-ctx.Done():
			jm.shutdownTMs()
			return nil
		case ev := <-jm.events:
			jm.handleEvent(ctx, ev)
		case now := <-tick.C:
			// Events that waited while the loop was busy go first, so that a
			// slow round never turns queued heartbeat replies into losses.
			for n := len(jm.events); n > 0; n-- {
				jm.handleEvent(ctx, <-jm.events)
				jm.drain(ctx)
			}
			jm.maybeRequestFinal()
			jm.hb.Tick(now)
			jm.sched.Tick(now)
			jm.coord.Tick(now)
			if !jm.terminalAt.IsZero() && now.Sub(jm.terminalAt) >= jm.cfg.ShutdownDelay {
				jm.shutdownTMs()
				return nil
			}
		}
		jm.drain(ctx)
		jm.publish()
	}
}

// drain performs the Ready of every core until none has work: one core's
// output is often another's input.
func (jm *JobManager) drain(ctx context.Context) {
	for i := 0; i < 100; i++ {
		progressed := false
		if jm.hb.HasReady() {
			jm.handleHeartbeatReady()
			progressed = true
		}
		if jm.sched.HasReady() {
			rd := jm.sched.Ready()
			jm.handleSchedReady(ctx, rd)
			jm.sched.Advance(rd)
			progressed = true
		}
		if jm.coord.HasReady() {
			rd := jm.coord.Ready()
			jm.handleCoordReady(ctx, rd)
			jm.coord.Advance(rd)
			progressed = true
		}
		if !progressed {
			return
		}
	}
	jm.log.Error("cores kept producing work for 100 rounds; yielding to new events")
}

func (jm *JobManager) handleEvent(ctx context.Context, ev event) {
	switch e := ev.(type) {
	case evRegister:
		e.reply <- jm.register(e.tm)
	case evMessage:
		jm.handleMessage(ctx, e.reg, e.env)
	case evGone:
		jm.lost(e.reg, "control connection closed: "+errString(e.err))
	case evCommand:
		e.fn()
	case evPersisted:
		jm.onPersisted(e)
	}
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}
