package metrics

import "github.com/tide-stream/tide/internal/metrichook"

// EmitHooked emits the samples of s, a Hooked series, that reg (a
// subtask's registry) holds. subtask are the values of s's first labels,
// the subtask's own (taskLabels); the values of the rest are read from
// each sample's labels by name, empty when a sample lacks one.
func EmitHooked(s *Series, reg *metrichook.Registry, emit Emit, subtask ...string) {
	reg.Each(func(sm metrichook.Sample) {
		if sm.Name != s.Name {
			return
		}
		values := make([]string, len(s.Labels))
		copy(values, subtask)
		for i := len(subtask); i < len(s.Labels); i++ {
			for _, l := range sm.Labels {
				if l.Name == s.Labels[i] {
					values[i] = l.Value
					break
				}
			}
		}
		emit(sm.Value, values...)
	})
}
