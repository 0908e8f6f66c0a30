package security

import (
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/config"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.5": false, "192.168.1.1": false,
	} {
		got, err := IsLoopback(host)
		if err != nil || got != want {
			t.Errorf("IsLoopback(%q) = %v, %v; want %v", host, got, err, want)
		}
	}
}

func TestCheckBind(t *testing.T) {
	load := func(dyn ...string) *config.Config {
		t.Helper()
		c, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dyn})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	conf := load()
	for _, jm := range []bool{true, false} {
		if err := CheckBind(conf, Ports(conf, jm)...); err != nil {
			t.Errorf("the defaults (loopback) refused: %v", err)
		}
	}
	conf = load("taskmanager.host=0.0.0.0", "security.internal.token-file=t", "metrics.reporter.prom.allow-unauthenticated=true",
		"rest.address=10.0.0.5", "rest.auth.token-file=r", "jobmanager.rpc.address=0.0.0.0")
	for _, jm := range []bool{true, false} {
		if err := CheckBind(conf, Ports(conf, jm)...); err != nil {
			t.Errorf("authenticated ports refused: %v", err)
		}
	}
	conf = load("jobmanager.rpc.address=0.0.0.0", "rest.address=10.0.0.5")
	err := CheckBind(conf, Ports(conf, true)...)
	if err == nil {
		t.Fatal("ports open to the network without authentication were allowed")
	}
	for _, want := range []string{
		`jobmanager.rpc.address is "0.0.0.0"`, "security.internal.token-file", "security.ssl.internal.enabled",
		`rest.address is "10.0.0.5"`, "rest.auth.token-file", `rest.address (metrics.reporter.prom.port) is "10.0.0.5"`,
		"metrics.reporter.prom.allow-unauthenticated", "security.allow-insecure: true", "tide secrets create",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	conf = load("taskmanager.host=0.0.0.0", "rest.auth.token-file=r")
	if err := CheckBind(conf, Ports(conf, false)...); err == nil || !strings.Contains(err.Error(), `taskmanager.host is "0.0.0.0"`) ||
		strings.Contains(err.Error(), "prom") {
		t.Errorf("a taskmanager with only its metrics authenticated: %v", err)
	}
	conf = load("jobmanager.rpc.address=0.0.0.0", "security.allow-insecure=true")
	if err := CheckBind(conf, Ports(conf, true)...); err != nil {
		t.Errorf("security.allow-insecure did not override: %v", err)
	}
}
