package security

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// MinTokenLen is the shortest secret or bearer token accepted, in bytes
// after surrounding whitespace is trimmed.
const MinTokenLen = 16

// maxTokenFile bounds what ReadToken reads.
const maxTokenFile = 4096

// ReadToken reads a secret or bearer token from path: the file's contents
// without surrounding whitespace, at least MinTokenLen bytes. The error names
// the file, never its contents.
func ReadToken(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("security: read token: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("security: read token %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("security: token file %s is larger than %d bytes", path, maxTokenFile)
	}
	tok := []byte(strings.TrimSpace(string(b)))
	if len(tok) < MinTokenLen {
		return nil, fmt.Errorf("security: token file %s holds %d characters; want at least %d (tide secrets create writes one)", path, len(tok), MinTokenLen)
	}
	return tok, nil
}

// Secret is the shared secret of security.internal.token-file, as the key
// of the token handshake. It never leaves the process.
type Secret struct{ key [sha256.Size]byte }

// secretIterations is PBKDF2's work factor for the handshake key. A proof
// seen on the wire lets an observer test guesses of the secret offline; a
// random secret (what `tide secrets create` writes: 256 bits) makes that
// hopeless, and the work factor slows guesses of a weaker one. Derived once
// per process.
const secretIterations = 100_000

// NewSecret derives the handshake key from a token.
func NewSecret(token []byte) (*Secret, error) {
	s := &Secret{}
	key, err := pbkdf2.Key(sha256.New, string(token), []byte("tide internal token v1"), secretIterations, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("security: derive the handshake key: %w", err)
	}
	copy(s.key[:], key)
	return s, nil
}

// The token handshake, on a fresh connection (under TLS when configured),
// before any byte of the protocol it carries:
//
//	client → server  magic "TIDEAUTH", version 1, client nonce (32 bytes)
//	server → client  server nonce (32), server proof (32)
//	client → server  client proof (32)
//	server → client  verdict: 0 accepted, 1 refused
//
// A proof is HMAC-SHA256(key, role ‖ binding ‖ client nonce ‖ server
// nonce), role "server" or "client", binding the TLS session's exported
// keying material (empty without TLS). Each side checks the other's proof
// before it sends anything else: a client never talks to a server that does
// not know the secret, nor a server to such a client.
const (
	magic      = "TIDEAUTH"
	version    = 1
	nonceLen   = 32
	proofLen   = sha256.Size
	verdictOK  = 0
	verdictBad = 1
)

// ErrRefused is wrapped by the error of a handshake the peer refused or the
// peer failed: it does not know the secret, or does not speak the
// handshake. It is not retryable with the same configuration.
var ErrRefused = errors.New("authentication refused")

func (s *Secret) proof(role string, binding, nc, ns []byte) []byte {
	h := hmac.New(sha256.New, s.key[:])
	h.Write([]byte(role))
	h.Write([]byte{byte(len(binding))})
	h.Write(binding)
	h.Write(nc)
	h.Write(ns)
	return h.Sum(nil)
}

// clientHandshake proves the secret to the server on conn and checks the
// server's proof. The caller bounds it with a deadline.
func (s *Secret) clientHandshake(conn net.Conn, binding []byte) error {
	hello := make([]byte, len(magic)+1+nonceLen)
	copy(hello, magic)
	hello[len(magic)] = version
	nc := hello[len(magic)+1:]
	if _, err := rand.Read(nc); err != nil {
		return fmt.Errorf("token handshake: %w", err)
	}
	if _, err := conn.Write(hello); err != nil {
		return fmt.Errorf("token handshake: send hello: %w", err)
	}
	reply := make([]byte, nonceLen+proofLen)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return fmt.Errorf("token handshake: the peer did not answer (does it have security.internal.token-file set?): %w", err)
	}
	ns, got := reply[:nonceLen], reply[nonceLen:]
	if !hmac.Equal(got, s.proof("server", binding, nc, ns)) {
		return fmt.Errorf("token handshake: the peer does not know the secret of security.internal.token-file: %w", ErrRefused)
	}
	if _, err := conn.Write(s.proof("client", binding, nc, ns)); err != nil {
		return fmt.Errorf("token handshake: send proof: %w", err)
	}
	verdict := make([]byte, 1)
	if _, err := io.ReadFull(conn, verdict); err != nil {
		return fmt.Errorf("token handshake: no verdict: %w", err)
	}
	if verdict[0] != verdictOK {
		return fmt.Errorf("token handshake: the peer refused our proof (different secrets?): %w", ErrRefused)
	}
	return nil
}

// serverHandshake checks the client's proof of the secret on conn and
// proves the secret in turn. The caller bounds it with a deadline.
func (s *Secret) serverHandshake(conn net.Conn, binding []byte) error {
	hello := make([]byte, len(magic)+1+nonceLen)
	if _, err := io.ReadFull(conn, hello[:len(magic)]); err != nil {
		return fmt.Errorf("no token handshake: %w", err)
	}
	if subtle.ConstantTimeCompare(hello[:len(magic)], []byte(magic)) != 1 {
		return errors.New("no token handshake: the peer spoke another protocol first (is security.internal.token-file set on it?)")
	}
	if _, err := io.ReadFull(conn, hello[len(magic):]); err != nil {
		return fmt.Errorf("token handshake: read hello: %w", err)
	}
	if v := hello[len(magic)]; v != version {
		return fmt.Errorf("token handshake: version %d, want %d", v, version)
	}
	nc := hello[len(magic)+1:]
	reply := make([]byte, nonceLen+proofLen)
	ns := reply[:nonceLen]
	if _, err := rand.Read(ns); err != nil {
		return fmt.Errorf("token handshake: %w", err)
	}
	copy(reply[nonceLen:], s.proof("server", binding, nc, ns))
	if _, err := conn.Write(reply); err != nil {
		return fmt.Errorf("token handshake: send proof: %w", err)
	}
	got := make([]byte, proofLen)
	if _, err := io.ReadFull(conn, got); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("token handshake: the peer hung up instead of proving the secret: it has another security.internal.token-file")
		}
		return fmt.Errorf("token handshake: read proof: %w", err)
	}
	if !hmac.Equal(got, s.proof("client", binding, nc, ns)) {
		_, _ = conn.Write([]byte{verdictBad})
		return errors.New("token handshake: wrong secret")
	}
	if _, err := conn.Write([]byte{verdictOK}); err != nil {
		return fmt.Errorf("token handshake: send verdict: %w", err)
	}
	return nil
}
