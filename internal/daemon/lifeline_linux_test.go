//go:build linux

package daemon

import "syscall"

// clearParentDeathSignal undoes setParentDeathSignal, to test the lifeline alone.
func clearParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = 0 }
