//go:build linux

package daemon

import "syscall"

// setParentDeathSignal asks for sig when the thread that forks the child exits.
func setParentDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) { attr.Pdeathsig = sig }
