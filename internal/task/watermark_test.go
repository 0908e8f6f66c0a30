package task

import (
	"math"
	"slices"
	"testing"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/keygroup"
)

// TestWatermarkFloors: key groups restored from objects written by
// subtasks at different watermarks keep each their own floor, and the next
// snapshot records each key group's floor or the subtask's watermark,
// whichever is later — a floor never goes down over restores.
func TestWatermarkFloors(t *testing.T) {
	w := func(v int64) *int64 { return &v }
	r := keygroup.Range{Start: 4, End: 11}
	restored := []checkpoint.KeyedSlice{
		{Handle: checkpoint.KeyedHandle{Range: keygroup.Range{Start: 0, End: 7}, Watermark: w(100)}, Range: keygroup.Range{Start: 4, End: 7}},
		{Handle: checkpoint.KeyedHandle{Range: keygroup.Range{Start: 8, End: 15}, Watermark: w(300)}, Range: keygroup.Range{Start: 8, End: 11}},
	}
	f := watermarkFloors(r, restored)
	if f.of(5) != 100 || f.of(9) != 300 || f.of(20) != math.MinInt64 || f.lowest() != 100 {
		t.Fatalf("floors of 5, 9, 20: %d %d %d, lowest %d", f.of(5), f.of(9), f.of(20), f.lowest())
	}
	one, per := f.snapshot(r, 200)
	if one != nil || !slices.Equal(per, []int64{200, 200, 200, 200, 300, 300, 300, 300}) {
		t.Fatalf("snapshot at 200: %v %v", one, per)
	}
	// Restored again from that snapshot, at another parallelism.
	h := checkpoint.KeyedHandle{Range: r, Watermarks: per}
	g := watermarkFloors(keygroup.Range{Start: 6, End: 9}, []checkpoint.KeyedSlice{{Handle: h, Range: keygroup.Range{Start: 6, End: 9}}})
	if g.of(6) != 200 || g.of(8) != 300 || g.lowest() != 200 {
		t.Fatalf("second restore: %d %d, lowest %d", g.of(6), g.of(8), g.lowest())
	}
	if one, per := g.snapshot(keygroup.Range{Start: 6, End: 9}, 400); per != nil || one == nil || *one != 400 {
		t.Fatalf("snapshot at 400, above every floor: %v %v", one, per)
	}
	if one, per := (*floors)(nil).snapshot(r, math.MinInt64); one != nil || per != nil {
		t.Fatal("no floors, no watermark: something recorded")
	}
}
