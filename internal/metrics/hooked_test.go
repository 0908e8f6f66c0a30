package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/tide-stream/tide/internal/metrichook"
)

// TestEmitHooked exports what operators reported through their subtask's
// metric hook: each hooked series with the subtask's labels first and the
// sample's own (operator, topic, partition) after, counters as counters;
// series of other names are left out.
func TestEmitHooked(t *testing.T) {
	r := NewRegistry()
	hook := metrichook.NewRegistry()
	op := hook.With(metrichook.Label{Name: LabelOperatorName, Value: "kafka"})
	op.Gauge(metrichook.KafkaConsumerLag, metrichook.Label{Name: LabelTopic, Value: "t"}, metrichook.Label{Name: LabelPartition, Value: "3"}).Set(42)
	op.Gauge(metrichook.KafkaConsumerLagMax).Set(42)
	op.Counter(metrichook.KafkaRecordsSkipped, metrichook.Label{Name: LabelPartition, Value: "3"}, metrichook.Label{Name: LabelTopic, Value: "t"}).Add(2)
	op.Gauge("test_other").Set(1)
	subtask := []string{"j", "job", "src", "0", "tm-1"}
	for _, s := range Hooked {
		r.Collect(s, func(emit Emit) { EmitHooked(s, hook, emit, subtask...) })
	}
	fams := gather(t, r)
	labels := func(m *dto.Metric) map[string]string {
		out := map[string]string{}
		for _, l := range m.GetLabel() {
			out[l.GetName()] = l.GetValue()
		}
		return out
	}
	lag := fams[metrichook.KafkaConsumerLag]
	if lag == nil || len(lag.Metric) != 1 || lag.Metric[0].GetGauge().GetValue() != 42 {
		t.Fatalf("lag: %v", lag)
	}
	want := map[string]string{LabelJobID: "j", LabelJobName: "job", LabelTaskName: "src", LabelSubtaskIndex: "0", LabelTMID: "tm-1",
		LabelOperatorName: "kafka", LabelTopic: "t", LabelPartition: "3"}
	if got := labels(lag.Metric[0]); len(got) != len(want) {
		t.Errorf("lag labels %v, want %v", got, want)
	} else {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("lag label %s = %q, want %q", k, got[k], v)
			}
		}
	}
	if m := fams[metrichook.KafkaConsumerLagMax]; m == nil || labels(m.Metric[0])[LabelOperatorName] != "kafka" || m.Metric[0].GetGauge().GetValue() != 42 {
		t.Errorf("lag max: %v", m)
	}
	if s := fams[metrichook.KafkaRecordsSkipped]; s == nil || s.GetType() != dto.MetricType_COUNTER || s.Metric[0].GetCounter().GetValue() != 2 {
		t.Errorf("skipped: %v", s)
	}
	if fams["test_other"] != nil {
		t.Error("a series that is not declared was exported")
	}
}
