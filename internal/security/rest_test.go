package security

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/security/securitytest"
)

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	r := &REST{Token: []byte(token)}
	h := r.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), nil)
	for header, want := range map[string]int{
		"Bearer " + token: 200, "bearer " + token: 200, "BEARER  " + token: 200,
		"Bearer " + token + "x": 401, "Basic " + token: 401, token: 401, "": 401,
	} {
		req := httptest.NewRequest("GET", "/jobs", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Authorization %q: %d, want %d", header, rec.Code, want)
		}
	}
}

// TestClientKeepsTheTokenHome: a server that redirects Tide's client
// elsewhere does not get the token sent there.
func TestClientKeepsTheTokenHome(t *testing.T) {
	var leaked bytes.Buffer
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.WriteString(r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/here" {
			return
		}
		http.Redirect(w, r, map[bool]string{true: "/here", false: elsewhere.URL + "/x"}[r.URL.Path == "/same"], http.StatusFound)
	}))
	defer home.Close()
	file := filepath.Join(t.TempDir(), "rest.token")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cl, _, err := ClientFromConfig(&config.Config{RESTTokenFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := cl.Get(home.URL + "/same"); err != nil {
		t.Fatalf("a redirect on the same server: %v", err)
	} else {
		resp.Body.Close()
	}
	if resp, err := cl.Get(home.URL + "/away"); err == nil {
		resp.Body.Close()
		t.Error("followed a redirect to another server")
	} else if !strings.Contains(err.Error(), "would take the token elsewhere") {
		t.Errorf("err = %v", err)
	}
	if leaked.Len() > 0 {
		t.Errorf("the other server got %q", leaked.String())
	}
}

func TestInternalRefusesTLSWithoutALPN(t *testing.T) {
	ca := securitytest.NewCA(t)
	ln, accepted := server(t, &Internal{Certs: loadTestCerts(t, ca, 1)})
	member := loadTestCerts(t, ca, 2)
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return member.Pair(), nil }})
	if err == nil {
		c.Write([]byte("x"))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("a member certificate without ALPN got an answer")
	}
	noAccept(t, accepted)
}

func TestHTTPErrorLog(t *testing.T) {
	var buf bytes.Buffer
	l := HTTPErrorLog(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	l.Print("http: TLS handshake error from 10.0.0.9:5555: EOF")
	l.Print("http: panic serving 10.0.0.9:5555: boom")
	out := buf.String()
	if strings.Contains(out, "TLS handshake") {
		t.Errorf("a stranger's failed handshake was logged above DEBUG:\n%s", out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "panic serving") {
		t.Errorf("other server errors are not at WARN:\n%s", out)
	}
}

// TestRESTServesHTTP2WithClientCertificates: the per-connection
// configuration of client-certificate mode still offers HTTP/2.
func TestRESTServesHTTP2WithClientCertificates(t *testing.T) {
	ca := securitytest.NewCA(t)
	certs := loadTestCerts(t, ca, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Proto))
	}))
	srv.TLS = (&REST{Certs: certs, ClientAuth: true}).ServerTLS()
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := loadTestCerts(t, ca, 2)
	pool := certs.Pool()
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost",
		Certificates: []tls.Certificate{*client.Pair()}}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://localhost:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("proto %s, want HTTP/2.0", resp.Proto)
	}
}
