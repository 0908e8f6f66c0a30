package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/security"
)

// client reads the JobManager's REST API.
type client struct {
	base string
	http *http.Client
}

// newClient reads the REST API on the loopback restPort as conf secures
// it: HTTPS with security.ssl.rest.enabled (trusting its ca-file, with its
// client certificate), the bearer token of rest.auth.token-file.
func newClient(conf *config.Config, restPort int) (*client, error) {
	hc, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		return nil, fmt.Errorf("chaos: the REST client: %w", err)
	}
	hc.Timeout = 2 * time.Second
	return &client{base: fmt.Sprintf("%s://127.0.0.1:%d", scheme, restPort), http: hc}, nil
}

// get decodes the JSON answer of GET path into v.
func (c *client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("GET %s: read the answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decode the answer: %w", path, err)
	}
	return nil
}

// jobID returns the id of the JobManager's job, "" while there is none.
func (c *client) jobID(ctx context.Context) (string, error) {
	var jobs struct {
		Jobs []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"jobs"`
	}
	if err := c.get(ctx, "/jobs", &jobs); err != nil {
		return "", err
	}
	if len(jobs.Jobs) == 0 {
		return "", nil
	}
	return jobs.Jobs[0].ID, nil
}

// snapshot is what one poll of the REST API saw.
type snapshot struct {
	state        rest.JobState
	attempt      int64
	parallelism  int
	taskManagers int
	rescales     []rest.Rescale
}

// poll reads the job's state, its rescales and the registered TaskManagers.
func (c *client) poll(ctx context.Context, jobID string) (snapshot, error) {
	var s snapshot
	var job rest.JobDetail
	if err := c.get(ctx, "/jobs/"+jobID, &job); err != nil {
		return s, err
	}
	s.state, s.attempt = job.State, job.Attempt
	for _, v := range job.Vertices {
		s.parallelism = max(s.parallelism, v.Parallelism)
	}
	var rs struct {
		Rescales []rest.Rescale `json:"rescales"`
	}
	if err := c.get(ctx, "/jobs/"+jobID+"/rescales", &rs); err != nil {
		return s, err
	}
	s.rescales = rs.Rescales
	var tms struct {
		TaskManagers []rest.TaskManager `json:"taskmanagers"`
	}
	if err := c.get(ctx, "/taskmanagers", &tms); err != nil {
		return s, err
	}
	s.taskManagers = len(tms.TaskManagers)
	return s, nil
}
