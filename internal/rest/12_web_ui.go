package rest

import (
	_ "embed"
	"io"
	"net/http"
)

// indexHTML is the web UI: one static page whose script polls the API. It
// is a string so that it cannot be modified.
//
//go:embed ui/index.html
var indexHTML string

// handleWebUI serves GET /: the embedded web UI.
func (s *Server) handleWebUI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Everything is inline or same-origin; nothing external may load.
	h.Set("Content-Security-Policy",
		"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, indexHTML)
}
