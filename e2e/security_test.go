package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/security"
)

// secrets runs `tide secrets create` into a new directory and returns it.
func secrets(t *testing.T, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	if out, err := tide(t, append([]string{"secrets", "create", "--dir", dir}, extra...)...); err != nil {
		t.Fatalf("tide secrets create: %v\n%s", err, out)
	}
	return dir
}

// secureKeys are the -D settings that turn on everything with the files of
// a `tide secrets create` directory: mutual TLS and the token on the
// internal plane, HTTPS and the bearer token on REST and metrics.
func secureKeys(dir string) []string {
	f := func(name string) string { return filepath.Join(dir, name) }
	return []string{
		"-Dsecurity.ssl.internal.enabled=true",
		"-Dsecurity.ssl.internal.cert-file=" + f("internal.pem"),
		"-Dsecurity.ssl.internal.key-file=" + f("internal-key.pem"),
		"-Dsecurity.ssl.internal.ca-file=" + f("internal-ca.pem"),
		"-Dsecurity.internal.token-file=" + f("internal.token"),
		"-Dsecurity.ssl.rest.enabled=true",
		"-Dsecurity.ssl.rest.cert-file=" + f("rest.pem"),
		"-Dsecurity.ssl.rest.key-file=" + f("rest-key.pem"),
		"-Dsecurity.ssl.rest.ca-file=" + f("rest-ca.pem"),
		"-Drest.auth.token-file=" + f("rest.token"),
	}
}

// newSecureCluster is newCluster with secureKeys, and a REST client that
// trusts the REST CA and sends the token, made by security.ClientFromConfig
// from those same keys.
func newSecureCluster(t *testing.T, dir string, dynamic ...string) *cluster {
	t.Helper()
	keys := secureKeys(dir)
	c := newCluster(t, append(keys, dynamic...)...)
	var dyn []string
	for _, k := range keys {
		dyn = append(dyn, strings.TrimPrefix(k, "-D"))
	}
	conf, err := config.Load(config.LoadOptions{Home: c.home, Dynamic: dyn})
	if err != nil {
		t.Fatal(err)
	}
	cl, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	cl.Timeout = 5 * time.Second
	c.rest, c.scheme = cl, scheme
	return c
}

// plainKeys are the cluster's settings without any security key.
func (c *cluster) plainKeys() []string {
	var out []string
	for _, d := range c.dynamic {
		if !strings.HasPrefix(d, "-Dsecurity.") && !strings.HasPrefix(d, "-Drest.auth.") {
			out = append(out, d)
		}
	}
	return out
}

// startTMWith starts a TaskManager with exactly the settings given.
func (c *cluster) startTMWith(name string, dynamic ...string) *proc {
	return c.start(name, append([]string{"taskmanager", "start-foreground"}, dynamic...)...)
}

func readLog(p *proc) string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// taskManagers lists the ids the JobManager's REST API knows.
func (c *cluster) taskManagers() ([]string, error) {
	var tms struct {
		TaskManagers []struct {
			ID       string `json:"id"`
			DataPort int    `json:"dataPort"`
		} `json:"taskmanagers"`
	}
	if err := c.get("/taskmanagers", &tms); err != nil {
		return nil, err
	}
	var ids []string
	for _, tm := range tms.TaskManagers {
		ids = append(ids, fmt.Sprintf("%s@%d", tm.ID, tm.DataPort))
	}
	return ids, nil
}

// TestStrangersCannotJoin runs a job on a cluster with every security
// option on, and points at its JobManager a TaskManager with no security
// settings, one with another secret, and one with a certificate of another
// CA (and the right secret). Each is refused, and logged with its address;
// the job never sees them and finishes exact. A raw TCP client on the good
// TaskManager's data port is dropped before it can send anything in.
func TestStrangersCannotJoin(t *testing.T) {
	t.Parallel()
	dir, other := secrets(t), secrets(t)
	c := newSecureCluster(t, dir)
	out := filepath.Join(c.dir, "out")
	jm := c.startJM("Verify", "--count", "24000", "--rate", "3000", "--keys", "8", "--output", out)
	good := c.startTM()
	id := c.jobID(t)

	otherToken, otherTLS := secureKeys(dir), secureKeys(other)
	for i, k := range otherToken {
		if strings.HasPrefix(k, "-Dsecurity.internal.token-file=") {
			otherToken[i] = "-Dsecurity.internal.token-file=" + filepath.Join(other, "internal.token")
		}
		if strings.HasPrefix(k, "-Dsecurity.internal.token-file=") {
			otherTLS[i] = k // the right secret: only the certificate is wrong
		}
	}
	strangers := []*proc{
		c.startTMWith("tm-no-security", c.plainKeys()...),
		c.startTMWith("tm-wrong-secret", append(c.plainKeys(), otherToken...)...),
		c.startTMWith("tm-other-ca", append(c.plainKeys(), otherTLS...)...),
	}
	// Each stranger tries, and is refused, more than once.
	eventually(t, 30*time.Second, "the jobmanager to refuse each stranger", func() (bool, string) {
		log := readLog(jm)
		n := strings.Count(log, `msg="refused a connection"`)
		return n >= 6, fmt.Sprintf("%d refusals", n)
	})
	for _, p := range strangers[1:] {
		if l := readLog(p); !strings.Contains(l, "do not authenticate each other") {
			t.Errorf("%s does not say why it cannot register:\n%s", p.name, tail(l, 10))
		}
	}
	if l := readLog(strangers[1]); !strings.Contains(l, "the peer does not know the secret") {
		t.Errorf("the TaskManager with another secret does not say the JobManager failed its proof:\n%s", tail(l, 10))
	}
	if l := readLog(strangers[2]); !strings.Contains(l, "not one of this cluster's") {
		t.Errorf("the TaskManager with another CA does not say the JobManager's certificate is foreign:\n%s", tail(l, 10))
	}
	jmLog := readLog(jm)
	if !strings.Contains(jmLog, "peer=127.0.0.1:") {
		t.Errorf("the refusals do not name the peer:\n%s", tail(jmLog, 10))
	}

	// The data plane: a raw client gets nothing in.
	var dataPort int
	eventually(t, 30*time.Second, "the good taskmanager's data port", func() (bool, string) {
		ids, err := c.taskManagers()
		if err != nil || len(ids) != 1 {
			return false, fmt.Sprint(ids, err)
		}
		_, err = fmt.Sscanf(ids[0][strings.LastIndex(ids[0], "@")+1:], "%d", &dataPort)
		return err == nil, fmt.Sprint(ids)
	})
	raw, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", dataPort))
	if err != nil {
		t.Fatal(err)
	}
	// A HELLO frame header as a peer TaskManager would send it first.
	raw.Write([]byte{0, 0, 0, 10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	raw.Write([]byte("127.0.0.1:1"))
	raw.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.ReadAll(raw); isTimeout(err) {
		t.Errorf("a raw client was kept on the data port: %v", err)
	}
	eventually(t, 15*time.Second, "the taskmanager to log the raw client's refusal", func() (bool, string) {
		return strings.Contains(readLog(good), "peer="+raw.LocalAddr().String()), tail(readLog(good), 5)
	})
	raw.Close()

	// The job never saw a stranger: one TaskManager throughout.
	for range 5 {
		if ids, err := c.taskManagers(); err != nil || len(ids) != 1 {
			t.Fatalf("the jobmanager lists taskmanagers %v (%v), want only the good one", ids, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	eventually(t, 60*time.Second, "the job to finish", func() (bool, string) {
		j, err := c.job(id)
		return err == nil && j.State == "FINISHED", fmt.Sprint(j.State, err)
	})
	if o, err := tide(t, "verify", "--output", out, "--keys", "8", "--count", "24000"); err != nil {
		t.Fatalf("verify: %v\n%s", err, o)
	}
	if r, err := c.rescales(id); err != nil || len(r) != 1 {
		t.Errorf("rescales %+v (%v), want the initial deployment only", r, err)
	}
	for _, name := range []string{"internal.token", "rest.token"} {
		secret, _ := os.ReadFile(filepath.Join(dir, name))
		for _, p := range append(strangers, jm, good) {
			if s := strings.TrimSpace(string(secret)); strings.Contains(readLog(p), s) {
				t.Errorf("%s's log holds the secret of %s", p.name, name)
			}
		}
	}
}

// TestRESTNeedsTheToken talks to a secured JobManager's REST API and
// metrics port as an outsider would.
func TestRESTNeedsTheToken(t *testing.T) {
	t.Parallel()
	dir := secrets(t)
	promPort := freePort(t)
	c := newSecureCluster(t, dir, fmt.Sprintf("-Dmetrics.reporter.prom.port=%d", promPort))
	c.startJM("Verify", "--count", "0", "--rate", "100")
	c.jobID(t) // the client with the token works

	pem, err := os.ReadFile(filepath.Join(dir, "rest-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	anon := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	token, _ := os.ReadFile(filepath.Join(dir, "rest.token"))
	for _, url := range []string{
		fmt.Sprintf("https://127.0.0.1:%d/jobs/overview", c.restPort),
		fmt.Sprintf("https://localhost:%d/metrics", promPort),
	} {
		for _, tc := range []struct {
			name   string
			header string
			want   int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"wrong token", "Bearer " + strings.Repeat("0", 64), http.StatusUnauthorized},
			{"token", "Bearer " + strings.TrimSpace(string(token)), http.StatusOK},
		} {
			req, _ := http.NewRequest("GET", url, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := anon.Do(req)
			if err != nil {
				t.Fatalf("%s, %s: %v", url, tc.name, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s, %s: %s %s, want %d", url, tc.name, resp.Status, body, tc.want)
			}
		}
	}
	// Plain HTTP on the HTTPS port gets no data.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/jobs/overview", c.restPort))
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "jobs") {
			t.Errorf("plain HTTP on the HTTPS port: %s %s", resp.Status, body)
		}
	}
}

// TestOpenPortsNeedAuthentication: a JobManager or TaskManager asked to
// bind an address off loopback without authentication refuses to start and
// names the keys to set; security.allow-insecure lets it.
func TestOpenPortsNeedAuthentication(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{append(append([]string{"standalone-job", "start-foreground", "-j", "Verify"}, c.dynamic...), "-Drest.address=0.0.0.0"),
			[]string{`rest.address is "0.0.0.0"`, "rest.auth.token-file", "security.allow-insecure"}},
		{append(append([]string{"standalone-job", "start-foreground", "-j", "Verify"}, c.dynamic...), "-Djobmanager.rpc.address=0.0.0.0"),
			[]string{`jobmanager.rpc.address is "0.0.0.0"`, "security.internal.token-file", "security.ssl.internal.enabled"}},
		{append(append([]string{"taskmanager", "start-foreground"}, c.dynamic...), "-Dtaskmanager.host=0.0.0.0"),
			[]string{`taskmanager.host is "0.0.0.0"`, "security.internal.token-file", "metrics.reporter.prom.allow-unauthenticated"}},
		{[]string{"autoscaler", "--host", "0.0.0.0", "--port", "0", "--rest", "http://127.0.0.1:1"},
			[]string{`--host (of tide autoscaler's --port) is "0.0.0.0"`, "rest.auth.token-file"}},
	} {
		out, err := tide(t, tc.args...)
		if err == nil {
			t.Errorf("%v started:\n%s", tc.args, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: the refusal does not say %q:\n%s", tc.args[:2], w, out)
			}
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// serial returns the serial number, in hex, of the certificate in file.
func serial(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.SerialNumber.Text(16)
}

// TestCertificateRotation renews every certificate (`tide secrets create
// --renew`: same CAs, new leaves) while a job runs on a secured cluster.
// The running processes read the new files without a restart: a
// TaskManager started after the renewal joins and the job rescales to it,
// the REST API serves the new certificate to new connections, and the
// output is exact.
func TestCertificateRotation(t *testing.T) {
	t.Parallel()
	dir := secrets(t)
	c := newSecureCluster(t, dir)
	out := filepath.Join(c.dir, "out")
	jm := c.startJM("Verify", "--count", "40000", "--rate", "4000", "--keys", "8", "--output", out)
	c.startTM()
	id := c.jobID(t)
	c.waitRunningAt(t, id, countSum, 1)

	oldInternal, oldREST := serial(t, filepath.Join(dir, "internal.pem")), serial(t, filepath.Join(dir, "rest.pem"))
	if o, err := tide(t, "secrets", "create", "--dir", dir, "--renew"); err != nil {
		t.Fatalf("renew: %v\n%s", err, o)
	}
	newInternal, newREST := serial(t, filepath.Join(dir, "internal.pem")), serial(t, filepath.Join(dir, "rest.pem"))
	if newInternal == oldInternal || newREST == oldREST {
		t.Fatal("--renew kept the certificates")
	}
	time.Sleep(1100 * time.Millisecond) // a process checks its files at most once a second

	c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	eventually(t, 10*time.Second, "the jobmanager to load the new internal certificate", func() (bool, string) {
		return strings.Contains(readLog(jm), "serial="+newInternal), tail(readLog(jm), 3)
	})

	// A new connection to the REST API gets the new certificate.
	pemCA, _ := os.ReadFile(filepath.Join(dir, "rest-ca.pem"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemCA)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.restPort), &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	got := conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
	conn.Close()
	if got != newREST {
		t.Errorf("the REST API serves certificate %s, want the renewed %s (old %s)", got, newREST, oldREST)
	}

	eventually(t, 60*time.Second, "the job to finish", func() (bool, string) {
		j, err := c.job(id)
		return err == nil && j.State == "FINISHED", fmt.Sprint(j.State, err)
	})
	if o, err := tide(t, "verify", "--output", out, "--keys", "8", "--count", "40000"); err != nil {
		t.Fatalf("verify: %v\n%s", err, o)
	}
}

// TestChaosSecured runs a short `tide chaos` with every security option on:
// TaskManagers killed, stopped and started, the JobManager killed and
// started again, all over mutual TLS and the secret, its REST over HTTPS
// with the token; the output must be exact. (`tide chaos` itself runs
// longer ones by hand: docs/security.md.)
func TestChaosSecured(t *testing.T) {
	t.Parallel()
	dir := secrets(t)
	args := []string{"chaos", "--events", "5", "--interval", "1500ms", "--seed", "7",
		"--kinds", "start,stop,kill,jm-kill", "--dir", filepath.Join(t.TempDir(), "chaos")}
	args = append(args, secureKeys(dir)...)
	out, err := tide(t, args...)
	if err != nil || !strings.Contains(out, "PASSED") {
		t.Fatalf("tide chaos: %v\n%s", err, tail(out, 40))
	}
}
