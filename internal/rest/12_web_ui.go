package rest

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// uiFiles is the web UI: index.html, its script and style sheet, and the
// vendored charting library (ui/vendor, uPlot; see its README). Embedded,
// so users need no build step and the files cannot change at run time.
//
//go:embed ui/index.html ui/app.js ui/app.css ui/vendor
var uiFiles embed.FS

// uiCSP is the Content-Security-Policy of the UI's files: everything is a
// same-origin file, nothing inline (uPlot sizes its elements through the
// CSSOM, which style-src does not govern), nothing external.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// handleWebUI serves GET /: the embedded page.
func (s *Server) handleWebUI(w http.ResponseWriter, r *http.Request) {
	s.serveUIFile(w, r, "index.html")
}

// handleUIAsset serves GET /ui/{file...}: the page's script, style sheet
// and vendored library. Directories and unknown files are JSON 404s.
func (s *Server) handleUIAsset(w http.ResponseWriter, r *http.Request) {
	s.serveUIFile(w, r, r.PathValue("file"))
}

// uiTypes are the UI files' content types, fixed here rather than read
// from the system's MIME tables.
var uiTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

func (s *Server) serveUIFile(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean("ui/" + name)
	body, err := fs.ReadFile(uiFiles, name)
	if err != nil || !strings.HasPrefix(name, "ui/") || strings.HasSuffix(name, ".md") {
		s.writeErrorStatus(w, r, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	ct, ok := uiTypes[path.Ext(name)]
	if !ok {
		ct = "text/plain; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", uiCSP)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
