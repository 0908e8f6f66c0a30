package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/security"
)

// restClient follows `tide run`'s job through the JobManager's REST API.
type restClient struct {
	base  string // http://host:port or https://host:port
	jobID string
	http  *http.Client
	polls int // views taken; checkpoints and rescales are fetched on every detailsEvery-th
}

// detailsEvery spaces the fetches of checkpoint and rescale lists while the job runs.
const detailsEvery = 8

// newRESTClient takes the REST address a JobManager reported when it came up (its scheme says
// whether it serves HTTPS) and the configuration the JobManager was given: the client trusts
// security.ssl.rest.ca-file, presents the client certificate and sends the bearer token, as
// security.ClientFromConfig makes it. An address bound to all interfaces is reached over
// loopback.
func newRESTClient(conf *config.Config, restURL, jobID string) (*restClient, error) {
	u, err := url.Parse(restURL)
	if err != nil || u.Host == "" || jobID == "" {
		return nil, fmt.Errorf("REST address %q, job id %q", restURL, jobID)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, fmt.Errorf("REST address %q: %w", restURL, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	u.Host = net.JoinHostPort(host, port)
	hc, _, err := security.ClientFromConfig(conf)
	if err != nil {
		return nil, err
	}
	hc.Timeout = 5 * time.Second
	return &restClient{base: u.String(), jobID: jobID, http: hc}, nil
}

func (c *restClient) get(path string, v any) error {
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// cancel asks the JobManager to cancel the job.
func (c *restClient) cancel() error {
	path := "/jobs/" + c.jobID + "?mode=cancel"
	req, err := http.NewRequest(http.MethodPatch, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("PATCH %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// jobView is what the summary shows of the job.
type jobView struct {
	rest.JobDetail
	Checkpoints *rest.CheckpointStats
	Rescales    []rest.Rescale
}

func (v jobView) terminal() bool {
	switch v.State {
	case rest.JobFinished, rest.JobFailed, rest.JobCanceled:
		return true
	}
	return false
}

// view fetches the job's state, and now and then (and once it is over) its checkpoints and
// rescales.
func (c *restClient) view() (jobView, error) {
	var v jobView
	if err := c.get("/jobs/"+c.jobID, &v.JobDetail); err != nil {
		return v, err
	}
	c.polls++
	if !v.terminal() && c.polls%detailsEvery != 1 {
		return v, nil
	}
	var cp rest.CheckpointStats
	if err := c.get("/jobs/"+c.jobID+"/checkpoints", &cp); err == nil {
		v.Checkpoints = &cp
	}
	var rs struct {
		Rescales []rest.Rescale `json:"rescales"`
	}
	if err := c.get("/jobs/"+c.jobID+"/rescales", &rs); err == nil {
		for _, r := range rs.Rescales {
			if r.Trigger != rest.TriggerInitial {
				v.Rescales = append(v.Rescales, r)
			}
		}
	}
	return v, nil
}

// summary is what `tide run` prints at the end.
type summary struct {
	job      string
	jobArgs  []string
	view     jobView
	canceled bool // the user canceled the job
}

// maxRescalesShown bounds the rescales the summary lists one by one.
const maxRescalesShown = 6

func (s summary) String() string {
	var b strings.Builder
	v := s.view
	if v.State == "" {
		fmt.Fprintf(&b, "job %s: its final state is unknown (the jobmanager did not say)", s.job)
	} else if !v.terminal() {
		fmt.Fprintf(&b, "job %s (%s) did not end: it was %s when last seen", s.job, v.ID, v.State)
	} else {
		fmt.Fprintf(&b, "job %s (%s) %s", s.job, v.ID, v.State)
		if v.Duration > 0 {
			fmt.Fprintf(&b, " after %v", (time.Duration(v.Duration) * time.Millisecond).Round(100*time.Millisecond))
		}
		if s.canceled && v.State == rest.JobCanceled {
			b.WriteString(" (canceled on request)")
		}
	}
	if cp := v.Checkpoints; cp != nil {
		fmt.Fprintf(&b, "\n  checkpoints: %d completed, %d failed", cp.Counts.Completed, cp.Counts.Failed)
		if l := cp.Latest.Completed; l != nil {
			fmt.Fprintf(&b, "; latest %d at %s", l.ID, l.ExternalPath)
		}
	}
	if v.Checkpoints != nil || len(v.Rescales) > 0 {
		fmt.Fprintf(&b, "\n  rescales: %d", len(v.Rescales))
		var items []string
		var pause int64
		for i, r := range v.Rescales {
			pause += max(0, r.PauseMs)
			if i < maxRescalesShown {
				items = append(items, fmt.Sprintf("%s %d→%d", r.Trigger, r.From, r.To))
			}
		}
		if n := len(v.Rescales) - maxRescalesShown; n > 0 {
			items = append(items, fmt.Sprintf("and %d more", n))
		}
		if len(items) > 0 {
			fmt.Fprintf(&b, " (%s; paused %v in all)", strings.Join(items, ", "), time.Duration(pause)*time.Millisecond)
		}
	}
	if s.job == "Verify" {
		s.verifyLines(&b)
	}
	return b.String()
}

// verifyLines adds the Verify job's records, output and the command that checks the output.
func (s summary) verifyLines(b *strings.Builder) {
	o, err := verify.ParseArgs(s.jobArgs)
	if err != nil {
		return // a job of the user's own under the same name
	}
	out := o.Output
	if abs, err := filepath.Abs(out); err == nil {
		out = abs // the JobManager runs in our working directory
	}
	count := o.Count
	switch {
	case o.Count == 0:
		fmt.Fprintf(b, "\n  records: unbounded (--count 0) over %d keys", o.Keys)
	case s.view.State == rest.JobFinished:
		fmt.Fprintf(b, "\n  records: %d over %d keys, all emitted", o.Count, o.Keys)
	default:
		fmt.Fprintf(b, "\n  records: fewer than the %d asked for (the job did not finish)", o.Count)
		count = 0 // check what was committed
	}
	fmt.Fprintf(b, "\n  output: %s", out)
	fmt.Fprintf(b, "\n  check it: tide verify --output %s --keys %d --count %d", shellQuote(out), o.Keys, count)
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:=,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
