package security

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Require wraps next so that a request without the bearer token gets 401
// with a JSON error body and a WWW-Authenticate challenge, unless open says
// the request needs none (nil: every request does). Without a token it
// returns next itself. The token is compared in constant time and never
// logged.
func (r *REST) Require(next http.Handler, open func(*http.Request) bool) http.Handler {
	if len(r.Token) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if (open != nil && open(req)) || r.bearerOK(req) {
			next.ServeHTTP(w, req)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="tide"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":["this endpoint needs Authorization: Bearer <the token of rest.auth.token-file>"]}` + "\n"))
	})
}

// bearerOK reports whether req carries the token.
func (r *REST) bearerOK(req *http.Request) bool {
	scheme, got, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") { // RFC 9110: the scheme is case-insensitive
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), r.Token) == 1
}
