package rest

import (
	"net/http"
	"time"
)

// webConfig is GET /config, the subset of Flink's dashboard configuration
// that makes sense for Tide.
type webConfig struct {
	// RefreshInterval is how often the web UI polls, ms.
	RefreshInterval int    `json:"refresh-interval"`
	TimezoneName    string `json:"timezone-name"`
	// TimezoneOffset is the server's offset from UTC, ms.
	TimezoneOffset int64  `json:"timezone-offset"`
	Version        string `json:"tide-version"`
	// FlinkVersion is FlinkAPIVersion; FlinkRevision is Tide's revision.
	FlinkVersion  string      `json:"flink-version"`
	FlinkRevision string      `json:"flink-revision"`
	Features      webFeatures `json:"features"`
}

// webFeatures says which actions the API offers, as Flink's "features".
type webFeatures struct {
	WebSubmit  bool `json:"web-submit"`
	WebCancel  bool `json:"web-cancel"`
	WebRescale bool `json:"web-rescale"`
	WebHistory bool `json:"web-history"`
}

// handleConfig serves GET /config: version and UI settings.
func (s *Server) handleConfig(*http.Request) (int, any, error) {
	name, offset := time.Now().Zone()
	return http.StatusOK, webConfig{
		RefreshInterval: 1000,
		TimezoneName:    name,
		TimezoneOffset:  int64(offset) * 1000,
		Version:         s.cfg.Version,
		FlinkVersion:    FlinkAPIVersion,
		FlinkRevision:   s.cfg.Revision,
		Features:        webFeatures{WebCancel: true},
	}, nil
}
