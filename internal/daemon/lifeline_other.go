//go:build unix && !linux

package daemon

import "syscall"

// setParentDeathSignal does nothing: only Linux has a parent-death signal. The lifeline pipe
// alone tells the child.
func setParentDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
