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
	conf := &config.Config{}
	none, withToken := &REST{}, &REST{Token: []byte(token)}
	secure := &Internal{Secret: NewSecret([]byte(token))}
	var insecure *Internal

	if err := CheckBind(conf, InternalPort("jobmanager.rpc.address", "localhost", insecure), RESTPort("127.0.0.1", none),
		MetricsPort("rest.address", "localhost", none, false)); err != nil {
		t.Errorf("loopback without authentication refused: %v", err)
	}
	if err := CheckBind(conf, InternalPort("taskmanager.host", "0.0.0.0", secure), RESTPort("0.0.0.0", withToken),
		MetricsPort("taskmanager.host", "10.1.2.3", none, true)); err != nil {
		t.Errorf("authenticated ports refused: %v", err)
	}
	err := CheckBind(conf, InternalPort("jobmanager.rpc.address", "0.0.0.0", insecure), RESTPort("10.0.0.5", none),
		MetricsPort("rest.address", "10.0.0.5", none, false))
	if err == nil {
		t.Fatal("ports open to the network without authentication were allowed")
	}
	for _, want := range []string{
		`jobmanager.rpc.address is "0.0.0.0"`, "security.internal.token-file", "security.ssl.internal.enabled",
		`rest.address is "10.0.0.5"`, "rest.auth.token-file",
		"metrics.reporter.prom.allow-unauthenticated", "security.allow-insecure: true", "tide secrets create",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	conf.AllowInsecure = true
	if err := CheckBind(conf, InternalPort("jobmanager.rpc.address", "0.0.0.0", insecure)); err != nil {
		t.Errorf("security.allow-insecure did not override: %v", err)
	}
}
