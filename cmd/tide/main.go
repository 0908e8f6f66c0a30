// Command tide is Tide's binary: the JobManager, the TaskManager, the local
// cluster and the tools, with the built-in jobs registered.
package main

import (
	"github.com/tide-stream/tide"
	"github.com/tide-stream/tide/examples/cpuload"
	"github.com/tide-stream/tide/examples/throughput"
	"github.com/tide-stream/tide/examples/topspeed"
	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/examples/wordcount"
)

func main() {
	tide.Register("Verify", verify.Build)
	tide.Register("Throughput", throughput.Build)
	tide.Register("WordCount", wordcount.Build)
	tide.Register("TopSpeedWindowing", topspeed.Build)
	tide.Register("CPULoad", cpuload.Build)
	tide.Main()
}
