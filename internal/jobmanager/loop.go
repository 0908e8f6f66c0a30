package jobmanager

import (
	"context"
	"time"
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
	}
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}
