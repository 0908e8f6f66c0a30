// Package security owns how Tide's processes prove who they are and keep
// what they say to each other private: the TLS material of the internal
// plane (RPC and data plane) and of the REST and metrics ports, read again
// when it changes on disk; the shared-secret handshake of
// security.internal.token-file; the bearer token of rest.auth.token-file;
// and the rule that no port is bound off loopback without authentication.
//
// The internal plane is secured below the protocols that use it: Internal
// is a transport.Network that wraps another one. Its listener hands out a
// connection only once the peer has passed TLS (when configured) and the
// token handshake (when configured), so the control service and the data
// plane never see an unauthenticated byte. Its Dial does the same as the
// client. The token handshake is a mutual challenge-response (HMAC-SHA256
// over both sides' nonces and, under TLS, the session's exported keying
// material): the secret never crosses the wire and a proof cannot be
// replayed or relayed to another session.
//
// docs/security.md is the threat model: what is protected, from whom, and
// what is trusted.
package security
