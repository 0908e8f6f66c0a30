package stream

import "github.com/tide-stream/tide/internal/metrichook"

// MetricGroup hands out the series a reader or an operator reports: a
// gauge or a counter by name and labels, the same series each time it is
// asked for with the same ones. Names are declared once, as constants
// (Tide's own are in DESIGN.md's metrics table); a name is either a gauge
// or a counter. The runtime keeps the current values per subtask for the
// metrics layer to export.
type MetricGroup = metrichook.Group

// Gauge is a value that goes up and down, safe for concurrent use.
type Gauge = metrichook.Gauge

// Counter is a value that only goes up, safe for concurrent use.
type Counter = metrichook.Counter

// Label is one label of a series: its name and value.
type Label = metrichook.Label
