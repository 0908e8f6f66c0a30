package autoscaler_test

import (
	"fmt"
	"time"

	"github.com/tide-stream/tide/internal/autoscaler"
)

// A driver's loop, reduced to its calls: gather an Input every sync
// period, decide, log, apply, acknowledge.
func Example() {
	p, err := autoscaler.NewHPA(autoscaler.HPAConfig{Bounds: autoscaler.Bounds{Min: 1, Max: 15}, TargetUtilization: 35})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	current := 1
	for range 3 {
		in := autoscaler.Input{Time: now, Current: current}
		for i := range current {
			// Every TaskManager at its 500m limit, 200% of its 250m request.
			in.TaskManagers = append(in.TaskManagers, autoscaler.TaskManager{
				ID: fmt.Sprintf("tm%d", i+1), Ready: true, CPU: 0.5, HasCPU: true, Request: 0.25})
		}
		d, err := p.Decide(in)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%d -> %d (change %v)\n", d.Current, d.Desired, d.Change)
		if d.Change {
			// The driver sets the count here; on success:
			p.Applied(d)
			current = d.Desired
		}
		now = now.Add(p.SyncPeriod())
	}
	// Output:
	// 1 -> 5 (change true)
	// 5 -> 10 (change true)
	// 10 -> 15 (change true)
}
