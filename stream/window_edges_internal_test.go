package stream

import (
	"math"
	"testing"
	"time"
)

// Flink's ContinuousEventTimeTrigger merges fire times with Min; summing
// them (mergeInto adds TriggerState.N) loses the continuous firings.
func TestContinuousTriggerSessionMerge(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(EventTimeSessionWindows(2000 * time.Millisecond)).Trigger(ContinuousEventTimeTrigger[rec2](1000 * time.Millisecond))
	})
	h.rec("a", 1, 500)  // [500,2500), next fire 1000
	h.rec("a", 2, 3000) // [3000,5000), next fire 4000
	h.rec("a", 4, 2000) // [2000,4000) bridges: [500,5000)
	h.watermark(1000)
	h.expect("{a 7}@4999") // Flink: fires at 1000 (fire time min(1000,4000))
	h.watermark(2000)
	h.expect("{a 7}@4999")
	h.watermark(3000)
	h.expect("{a 7}@4999")
}

// A fire time of 0 is taken for "none" (State().N == 0).
func TestContinuousTriggerFireTimeZero(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingEventTimeWindows(10 * time.Second)).Trigger(ContinuousEventTimeTrigger[rec2](1000 * time.Millisecond))
	})
	h.rec("a", 1, -500) // window [-10000,0), next fire 0? no: window ends -1
	h.rec("b", 1, 500)
	h.watermark(-1)
	h.expect("{a 1}@-1")
	h2 := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingEventTimeWindows(10*time.Second, 5*time.Second)).Trigger(ContinuousEventTimeTrigger[rec2](1000 * time.Millisecond))
	})
	h2.rec("a", 1, -500) // window [-5000,5000), next fire at 0
	h2.watermark(0)
	h2.expect("{a 1}@4999")
	h2.watermark(1000)
	h2.expect("{a 1}@4999")
}

func TestExtremeTimestamps(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingEventTimeWindows(10 * time.Millisecond))
	})
	h.rec("a", 1, math.MinInt64+1)
	h.rec("b", 2, math.MaxInt64-1)
	h.rec("c", 3, -15)
	h.watermark(math.MaxInt64)
	h.expect("{a 1}@-9223372036854775801", "{b 2}@9223372036854775806", "{c 3}@-11")
}

func TestSlidingExtremeTimestamps(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(SlidingEventTimeWindows(10*time.Millisecond, 5*time.Millisecond))
	})
	h.rec("a", 1, math.MinInt64+1)
	h.watermark(math.MaxInt64)
	got := h.out.take()
	if len(got) == 0 {
		t.Fatalf("record at MinInt64+1 in no window")
	}
	t.Log(got)
}
