package rest

import (
	"context"
	"fmt"
	"sync"
)

// fakeBackend is a Backend over in-memory data, guarded by mu. Tests set its
// fields before serving and read what the commands recorded.
type fakeBackend struct {
	mu          sync.Mutex
	overview    Overview
	jobs        []JobSummary
	details     map[string]JobDetail
	checkpoints map[string]CheckpointStats
	rescales    map[string][]Rescale
	exceptions  map[string]JobExceptions
	tms         []TaskManager
	tmDetails   map[string]TaskManagerDetail
	vertices    map[string]map[string]VertexDetail
	// cpDetails maps job id, then checkpoint id, to its details.
	cpDetails  map[string]map[int64]CheckpointRecord
	cpConfig   map[string]CheckpointConfig
	jobConfig  map[string]JobConfig
	config     []ConfigEntry
	jmMetrics  []Metric
	jobMetrics map[string][]Metric
	// vertexMetrics maps job id, then vertex id, to its metrics.
	vertexMetrics map[string]map[string][]Metric
	tmMetrics     map[string][]Metric
	// savepoints maps job id, then request id, to the request's status.
	savepoints map[string]map[string]SavepointStatus
	nextReq    int
	// requests records every savepoint or stop command, in order.
	requests []SavepointRequest
	stops    int
	cancels  []string
	// cmdErr, if set, is what every command returns.
	cmdErr error
	// blockCommands makes commands wait for ctx and return its error; each
	// blocked command first sends on blocked, if it is not nil.
	blockCommands bool
	blocked       chan struct{}
	// panicOn names a read method (e.g. "Overview") that panics.
	panicOn string
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		details:       map[string]JobDetail{},
		checkpoints:   map[string]CheckpointStats{},
		rescales:      map[string][]Rescale{},
		exceptions:    map[string]JobExceptions{},
		savepoints:    map[string]map[string]SavepointStatus{},
		tmDetails:     map[string]TaskManagerDetail{},
		vertices:      map[string]map[string]VertexDetail{},
		cpDetails:     map[string]map[int64]CheckpointRecord{},
		cpConfig:      map[string]CheckpointConfig{},
		jobConfig:     map[string]JobConfig{},
		vertexMetrics: map[string]map[string][]Metric{},
		tmMetrics:     map[string][]Metric{},
		jobMetrics:    map[string][]Metric{},
	}
}

func (f *fakeBackend) maybePanic(method string) {
	if f.panicOn == method {
		panic("fake backend: " + method + " exploded")
	}
}

func (f *fakeBackend) Overview() Overview {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maybePanic("Overview")
	return f.overview
}

func (f *fakeBackend) Jobs() []JobSummary {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maybePanic("Jobs")
	return f.jobs
}

func (f *fakeBackend) Job(id string) (JobDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maybePanic("Job")
	d, ok := f.details[id]
	if !ok {
		return JobDetail{}, ErrNotFound
	}
	return d, nil
}

func (f *fakeBackend) Checkpoints(id string) (CheckpointStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.checkpoints[id]
	if !ok {
		return CheckpointStats{}, ErrNotFound
	}
	return st, nil
}

func (f *fakeBackend) Rescales(id string) ([]Rescale, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.details[id]; !ok {
		return nil, ErrNotFound
	}
	return f.rescales[id], nil
}

func (f *fakeBackend) Exceptions(id string) (JobExceptions, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.details[id]; !ok {
		return JobExceptions{}, ErrNotFound
	}
	return f.exceptions[id], nil
}

func (f *fakeBackend) TaskManagers() []TaskManager {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tms
}

func (f *fakeBackend) TaskManager(tmID string) (TaskManagerDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.tmDetails[tmID]
	if !ok {
		return d, ErrTaskManagerNotFound
	}
	return d, nil
}

func (f *fakeBackend) Vertex(id, vertexID string) (VertexDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.details[id]; !ok {
		return VertexDetail{}, ErrNotFound
	}
	v, ok := f.vertices[id][vertexID]
	if !ok {
		return v, ErrVertexNotFound
	}
	return v, nil
}

func (f *fakeBackend) Checkpoint(id string, checkpointID int64) (CheckpointRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.details[id]; !ok {
		return CheckpointRecord{}, ErrNotFound
	}
	c, ok := f.cpDetails[id][checkpointID]
	if !ok {
		return c, ErrCheckpointNotFound
	}
	return c, nil
}

func (f *fakeBackend) CheckpointConfig(id string) (CheckpointConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.details[id]; !ok {
		return CheckpointConfig{}, ErrNotFound
	}
	c, ok := f.cpConfig[id]
	if !ok {
		return c, ErrCheckpointingDisabled
	}
	return c, nil
}

func (f *fakeBackend) JobConfig(id string) (JobConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.jobConfig[id]
	if !ok {
		return c, ErrNotFound
	}
	return c, nil
}

func (f *fakeBackend) ClusterConfig() []ConfigEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.config
}

func (f *fakeBackend) JobManagerMetrics() []Metric {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jmMetrics
}

func (f *fakeBackend) JobMetrics(id string) ([]Metric, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ms, ok := f.jobMetrics[id]
	if !ok {
		return nil, ErrNotFound
	}
	return ms, nil
}

func (f *fakeBackend) VertexMetrics(id, vertexID string) ([]Metric, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.details[id]; !ok {
		return nil, ErrNotFound
	}
	ms, ok := f.vertexMetrics[id][vertexID]
	if !ok {
		return nil, ErrVertexNotFound
	}
	return ms, nil
}

func (f *fakeBackend) TaskManagerMetrics(tmID string) ([]Metric, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ms, ok := f.tmMetrics[tmID]
	if !ok {
		return nil, ErrTaskManagerNotFound
	}
	return ms, nil
}

// commandLocked checks a command against cmdErr and the known jobs.
func (f *fakeBackend) commandLocked(id string) error {
	if f.cmdErr != nil {
		return f.cmdErr
	}
	if _, ok := f.details[id]; !ok {
		return ErrNotFound
	}
	return nil
}

func (f *fakeBackend) startSavepoint(ctx context.Context, id string, req SavepointRequest) (string, error) {
	f.mu.Lock()
	block := f.blockCommands
	f.mu.Unlock()
	if block {
		// Wait outside the lock, as a real Backend waits for its loop.
		f.signalBlocked()
		<-ctx.Done()
		return "", fmt.Errorf("fake backend: waiting for the loop: %w", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.commandLocked(id); err != nil {
		return "", err
	}
	f.nextReq++
	rid := fmt.Sprintf("req-%d", f.nextReq)
	if req.TriggerID != "" {
		rid = req.TriggerID
	}
	if f.savepoints[id] == nil {
		f.savepoints[id] = map[string]SavepointStatus{}
	}
	f.savepoints[id][rid] = SavepointStatus{State: SavepointInProgress}
	f.requests = append(f.requests, req)
	return rid, nil
}

func (f *fakeBackend) TriggerSavepoint(ctx context.Context, id string, req SavepointRequest) (string, error) {
	return f.startSavepoint(ctx, id, req)
}

func (f *fakeBackend) StopWithSavepoint(ctx context.Context, id string, req SavepointRequest) (string, error) {
	rid, err := f.startSavepoint(ctx, id, req)
	if err == nil {
		f.mu.Lock()
		f.stops++
		f.mu.Unlock()
	}
	return rid, err
}

func (f *fakeBackend) Savepoint(id, requestID string) (SavepointStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.savepoints[id][requestID]
	if !ok {
		return SavepointStatus{}, ErrNotFound
	}
	return st, nil
}

// finishSavepoint sets a request's outcome, as the JobManager would.
func (f *fakeBackend) finishSavepoint(id, requestID string, st SavepointStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.savepoints[id][requestID] = st
}

func (f *fakeBackend) Cancel(ctx context.Context, id string) error {
	f.mu.Lock()
	block := f.blockCommands
	f.mu.Unlock()
	if block {
		f.signalBlocked()
		<-ctx.Done()
		return fmt.Errorf("fake backend: waiting for the loop: %w", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.commandLocked(id); err != nil {
		return err
	}
	f.cancels = append(f.cancels, id)
	return nil
}

// signalBlocked tells a test that a command is now blocked.
func (f *fakeBackend) signalBlocked() {
	if f.blocked != nil {
		f.blocked <- struct{}{}
	}
}
