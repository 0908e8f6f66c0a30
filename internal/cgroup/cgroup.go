// Package cgroup puts local processes under a CPU limit and request like a
// Kubernetes pod's: a cgroup per process, under one group per owner, with
// a CFS quota (the limit) and CPU shares or weight (the request). It
// works with cgroup v1's cpu controller and with cgroup v2 (cpu.max,
// cpu.weight), and removes what it created.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Version is the cgroup hierarchy in use.
type Version int

// The hierarchies.
const (
	V1 Version = 1
	V2 Version = 2
)

// period is the CFS period the quota is given in, 100 ms as Kubernetes.
const period = 100_000

// Group is a parent cgroup whose children hold one process each.
type Group struct {
	version Version
	dir     string // the group's directory
}

// ErrUnavailable says no writable cpu controller was found.
var ErrUnavailable = errors.New("cgroup: no writable cpu controller (cgroup v1 cpu or cgroup v2 with cpu enabled); run as root on Linux")

// Open creates the group name under the cgroup file system mounted at root
// (normally /sys/fs/cgroup): under the v1 cpu controller when there is one,
// else in the v2 hierarchy with the cpu controller enabled for children.
func Open(root, name string) (*Group, error) {
	if name == "" || strings.ContainsAny(name, "/.") {
		return nil, fmt.Errorf("cgroup: bad group name %q", name)
	}
	if fi, err := os.Stat(filepath.Join(root, "cpu", "cpu.cfs_quota_us")); err == nil && !fi.IsDir() {
		dir := filepath.Join(root, "cpu", name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return &Group{version: V1, dir: dir}, nil
	}
	if b, err := os.ReadFile(filepath.Join(root, "cgroup.controllers")); err == nil && hasWord(string(b), "cpu") {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		// Children of the group get the cpu controller (the root's
		// subtree_control must allow it, which a systemd host does).
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu"), 0o644); err != nil {
			_ = os.Remove(dir)
			return nil, fmt.Errorf("%w: enabling cpu under %s: %v", ErrUnavailable, dir, err)
		}
		return &Group{version: V2, dir: dir}, nil
	}
	return nil, ErrUnavailable
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// Version is the hierarchy the group lives in.
func (g *Group) Version() Version { return g.version }

// Dir is the group's directory.
func (g *Group) Dir() string { return g.dir }

// CPU is a pod-like CPU budget in millicores: Limit is a hard quota (0:
// none), Request the share under contention (0: the default share).
type CPU struct {
	RequestMilli, LimitMilli int
}

// Add creates the child cgroup name with cpu's limit and request, and
// moves process pid into it.
func (g *Group) Add(name string, pid int, cpu CPU) error {
	if name == "" || strings.ContainsAny(name, "/.") {
		return fmt.Errorf("cgroup: bad name %q", name)
	}
	dir := filepath.Join(g.dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cgroup: %w", err)
	}
	write := func(file, v string) error {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			return fmt.Errorf("cgroup: %s: %w", filepath.Join(dir, file), err)
		}
		return nil
	}
	var err error
	switch g.version {
	case V1:
		err = errors.Join(write("cpu.cfs_period_us", strconv.Itoa(period)), write("cpu.cfs_quota_us", v1Quota(cpu.LimitMilli)))
		if cpu.RequestMilli > 0 {
			// Kubernetes: shares = request in millicores × 1024 / 1000.
			err = errors.Join(err, write("cpu.shares", strconv.Itoa(max(2, cpu.RequestMilli*1024/1000))))
		}
	case V2:
		err = write("cpu.max", v2Max(cpu.LimitMilli))
		if cpu.RequestMilli > 0 {
			err = errors.Join(err, write("cpu.weight", strconv.Itoa(v2Weight(cpu.RequestMilli))))
		}
	}
	if err == nil {
		err = write("cgroup.procs", strconv.Itoa(pid))
	}
	if err != nil {
		_ = os.Remove(dir)
	}
	return err
}

func v1Quota(limitMilli int) string {
	if limitMilli <= 0 {
		return "-1"
	}
	return strconv.Itoa(limitMilli * period / 1000)
}

func v2Max(limitMilli int) string {
	if limitMilli <= 0 {
		return "max " + strconv.Itoa(period)
	}
	return strconv.Itoa(limitMilli*period/1000) + " " + strconv.Itoa(period)
}

// v2Weight maps a request to cpu.weight as Kubernetes does from shares:
// 1 + ((shares − 2) × 9999) / 262142.
func v2Weight(requestMilli int) int {
	shares := max(2, requestMilli*1024/1000)
	return 1 + ((shares-2)*9999)/262142
}

// Remove removes the child cgroup name; its process must have exited.
func (g *Group) Remove(name string) error {
	if err := os.Remove(filepath.Join(g.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cgroup: %w", err)
	}
	return nil
}

// Close removes the group; its children must be removed first.
func (g *Group) Close() error {
	if err := os.Remove(g.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cgroup: %w", err)
	}
	return nil
}
