//go:build unix && !linux

package daemon

import "syscall"

func clearParentDeathSignal(*syscall.SysProcAttr) {}
