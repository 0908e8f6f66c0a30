package rest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flinkSpec is testdata/flink-spec/schemas.json: the response schemas
// Flink's OpenAPI spec gives the endpoints Tide serves (see its README).
type flinkSpec struct {
	Source    map[string]string          `json:"source"`
	Endpoints map[string]string          `json:"endpoints"`
	Required  map[string][]string        `json:"required"`
	Schemas   map[string]json.RawMessage `json:"schemas"`
}

func loadFlinkSpec(t testing.TB) *flinkSpec {
	t.Helper()
	b, err := os.ReadFile("testdata/flink-spec/schemas.json")
	if err != nil {
		t.Fatal(err)
	}
	var s flinkSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("testdata/flink-spec/schemas.json: %v", err)
	}
	return &s
}

// deviation is how Tide's answer may differ from a field of the spec.
type deviation int

const (
	// absent: Tide does not send the field; the reason says why. The field
	// must then be absent, so that this list stays true.
	absent deviation = iota + 1
	// nullable: Flink sends null when there is nothing (the spec does not
	// say so); Tide does the same.
	nullable
	// optional: Flink leaves the field out in some answers; so does Tide.
	optional
)

// deviations lists, by "Schema.field", every field of the spec a Tide
// answer may lack or leave null, and why. Everything else of the spec is
// required, with its type.
var deviations = map[string]struct {
	kind deviation
	why  string
}{
	// Tide measures no bytes processed during alignment.
	"CheckpointStatistics.processed_data":          {absent, "not measured"},
	"CompletedCheckpointStatistics.processed_data": {absent, "not measured"},
	"FailedCheckpointStatistics.processed_data":    {absent, "not measured"},
	"TaskCheckpointStatistics.processed_data":      {absent, "not measured"},
	"CheckpointStatisticsSummary.processed_data":   {absent, "not measured"},
	// Tide has no changelog state backend.
	"CheckpointConfigInfo.changelog_storage":                           {absent, "no changelog state backend"},
	"CheckpointConfigInfo.changelog_periodic_materialization_interval": {absent, "no changelog state backend"},
	// Flink's memory model (JVM heap, managed, network memory) is not Tide's.
	"TaskManagerInfo.totalResource":                              {absent, "no Flink resource profile"},
	"TaskManagerInfo.freeResource":                               {absent, "no Flink resource profile"},
	"TaskManagerDetailsInfo.totalResource":                       {absent, "no Flink resource profile"},
	"TaskManagerDetailsInfo.freeResource":                        {absent, "no Flink resource profile"},
	"SlotInfo.resource":                                          {absent, "no Flink resource profile"},
	"TaskManagerMetricsInfo.directCount":                         {absent, "no JVM direct buffers"},
	"TaskManagerMetricsInfo.directMax":                           {absent, "no JVM direct buffers"},
	"TaskManagerMetricsInfo.directUsed":                          {absent, "no JVM direct buffers"},
	"TaskManagerMetricsInfo.mappedCount":                         {absent, "no JVM mapped buffers"},
	"TaskManagerMetricsInfo.mappedMax":                           {absent, "no JVM mapped buffers"},
	"TaskManagerMetricsInfo.mappedUsed":                          {absent, "no JVM mapped buffers"},
	"TaskManagerMetricsInfo.memorySegmentsAvailable":             {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.memorySegmentsTotal":                 {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.nettyShuffleMemoryAvailable":         {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.nettyShuffleMemorySegmentsAvailable": {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.nettyShuffleMemorySegmentsTotal":     {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.nettyShuffleMemorySegmentsUsed":      {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.nettyShuffleMemoryTotal":             {absent, "no Netty memory segments"},
	"TaskManagerMetricsInfo.nettyShuffleMemoryUsed":              {absent, "no Netty memory segments"},
	// Flink's SerializedThrowable JSON also has the Java-serialized
	// exception in base64; Tide has no Java exception to serialize and
	// sends the class and stack-trace fields Flink sends beside it.
	"SerializedThrowable.serialized-throwable": {absent, "no Java exception"},

	// Flink sends null for a kind of checkpoint there is none of yet.
	"LatestCheckpoints.completed": {nullable, "Flink: null when none"},
	"LatestCheckpoints.failed":    {nullable, "Flink: null when none"},
	"LatestCheckpoints.restored":  {nullable, "Flink: null when none"},
	"LatestCheckpoints.savepoint": {nullable, "Flink: null when none"},
	// Flink's savepointFormat is null for a checkpoint.
	"CheckpointStatistics.savepointFormat":          {nullable, "Flink: null for a checkpoint"},
	"CompletedCheckpointStatistics.savepointFormat": {nullable, "Flink: null for a checkpoint"},
	"FailedCheckpointStatistics.savepointFormat":    {nullable, "Flink: null for a checkpoint"},
	// The deprecated root fields are null while the job has not failed.
	"JobExceptionsInfoWithHistory.root-exception": {nullable, "Flink: null before a failure"},
	"JobExceptionsInfoWithHistory.timestamp":      {nullable, "Flink: null before a failure"},
	// A failure of no task (a lost TaskManager) names none.
	"ExceptionInfo.taskName":          {optional, "Flink: absent for a failure of no task"},
	"ExceptionInfo.location":          {optional, "Flink: absent for a failure of no task"},
	"ExceptionInfo.taskManagerId":     {optional, "Flink: absent for a failure of no task"},
	"RootExceptionInfo.taskName":      {optional, "Flink: absent for a failure of no task"},
	"RootExceptionInfo.location":      {optional, "Flink: absent for a failure of no task"},
	"RootExceptionInfo.taskManagerId": {optional, "Flink: absent for a failure of no task"},
	// Only speculative execution has other attempts; Flink leaves the
	// field out otherwise.
	"SubtaskExecutionAttemptDetailsInfo.other-concurrent-attempts": {optional, "Flink: absent without speculative execution"},
	// A metric query without get lists the ids alone (the spec marks only
	// id required).
	"Metric.value": {optional, "Flink: absent when only ids are listed"},
	// An aggregated metric has the aggregates asked for (agg), and none
	// when only ids are listed.
	"AggregatedMetric.min": {optional, "Flink: only the aggregates asked for"},
	"AggregatedMetric.max": {optional, "Flink: only the aggregates asked for"},
	"AggregatedMetric.avg": {optional, "Flink: only the aggregates asked for"},
	"AggregatedMetric.sum": {optional, "Flink: only the aggregates asked for"},
	// Flink sends null for a memory pool that is not configured; Tide has
	// none of the JVM's pools (TaskManager.MemoryConfiguration).
	"TaskExecutorMemoryConfiguration.frameworkHeap":      {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.taskHeap":           {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.frameworkOffHeap":   {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.taskOffHeap":        {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.networkMemory":      {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.managedMemory":      {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.jvmMetaspace":       {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.jvmOverhead":        {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.totalFlinkMemory":   {nullable, "Flink: null when not configured"},
	"TaskExecutorMemoryConfiguration.totalProcessMemory": {nullable, "Flink: null when not configured"},
	// An operation in progress has no result; a done one has either.
	"AsynchronousOperationResult.operation": {nullable, "Flink: null while in progress"},
	"SavepointInfo.location":                {optional, "Flink: absent when the savepoint failed"},
	"SavepointInfo.failure-cause":           {optional, "Flink: absent when the savepoint succeeded"},
}

// actualSchemas replaces schemas whose spec differs from what Flink sends;
// Tide sends what Flink sends.
var actualSchemas = map[string]string{
	// AggregatedMetricsResponseBody is an object without fields in the
	// spec; Flink's serializer writes an array of aggregated metrics.
	"AggregatedMetricsResponseBody": "[AggregatedMetric]",
	// MetricCollectionResponseBody has its own serializer in Flink that
	// writes the bare array of metrics, not {"metrics":[…]}.
	"MetricCollectionResponseBody": "[Metric]",
	// JobConfigInfo's serializer writes jid, name and execution-config,
	// not the spec's jobId, jobName and executionConfigInfo.
	"JobConfigInfo": "JobConfigInfoAsSent",
	// Flink names standalone TaskManagers host:port-suffix and Kubernetes
	// ones by their pod, not 32 hex characters as the spec's pattern says.
	"ResourceID": "string",
}

// sentSchemas are the schemas of actualSchemas that the spec lacks.
var sentSchemas = map[string]map[string]string{
	"JobConfigInfoAsSent": {"jid": "JobID", "name": "string", "execution-config": "ExecutionConfigInfo"},
	"AggregatedMetric":    {"id": "string", "min": "number", "max": "number", "avg": "number", "sum": "number"},
}

// checkpointKinds is the spec's discriminator of CheckpointStatistics:
// className -> the schema of that kind.
var checkpointKinds = map[string]string{
	"completed":   "CompletedCheckpointStatistics",
	"failed":      "FailedCheckpointStatistics",
	"in_progress": "CheckpointStatistics",
}

// SpecChecker checks JSON values against the spec's field lists. It is
// exported for the tests of package rest_test, which run a real cluster.
type SpecChecker struct {
	t    testing.TB
	spec *flinkSpec
	// seen records the schemas checked, to show that every endpoint's
	// nested schemas were reached.
	seen map[string]bool
}

func NewSpecChecker(t testing.TB) *SpecChecker {
	return &SpecChecker{t: t, spec: loadFlinkSpec(t), seen: map[string]bool{}}
}

// CheckEndpoint checks body, the decoded answer of endpoint ("GET /jobs"),
// against its schema.
func (c *SpecChecker) CheckEndpoint(endpoint string, body any) {
	c.t.Helper()
	typ, ok := c.spec.Endpoints[endpoint]
	if !ok {
		c.t.Fatalf("%s: not in testdata/flink-spec/schemas.json", endpoint)
	}
	for _, err := range c.check(endpoint, body, typ) {
		c.t.Errorf("%s", err)
	}
}

// check returns every way v, at path, is not of type typ.
func (c *SpecChecker) check(path string, v any, typ string) []string {
	switch {
	case strings.HasPrefix(typ, "[") && strings.HasSuffix(typ, "]"):
		xs, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %s, want an array of %s", path, describe(v), typ[1:len(typ)-1])}
		}
		var errs []string
		for i, x := range xs {
			errs = append(errs, c.check(fmt.Sprintf("%s[%d]", path, i), x, typ[1:len(typ)-1])...)
		}
		return errs
	case strings.HasPrefix(typ, "{") && strings.HasSuffix(typ, "}"):
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %s, want an object of %s", path, describe(v), typ[1:len(typ)-1])}
		}
		var errs []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			errs = append(errs, c.check(path+"."+k, m[k], typ[1:len(typ)-1])...)
		}
		return errs
	}
	switch typ {
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: %s, want a string", path, describe(v))}
		}
		return nil
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %s, want a boolean", path, describe(v))}
		}
		return nil
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %s, want a number", path, describe(v))}
		}
		return nil
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return []string{fmt.Sprintf("%s: %s, want an integer", path, describe(v))}
		}
		return nil
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return []string{fmt.Sprintf("%s: %s, want an object", path, describe(v))}
		}
		return nil
	}
	return c.checkSchema(path, v, typ)
}

// checkSchema checks v against the named schema.
func (c *SpecChecker) checkSchema(path string, v any, name string) []string {
	if actual, ok := actualSchemas[name]; ok {
		if _, sent := sentSchemas[actual]; !sent {
			return c.check(path, v, actual)
		}
		name = actual
	}
	if name == "CheckpointStatistics" {
		if m, ok := v.(map[string]any); ok {
			if kind, ok := checkpointKinds[fmt.Sprint(m["className"])]; ok {
				name = kind
			} else {
				return []string{fmt.Sprintf("%s: className %v, want one of completed, failed, in_progress", path, m["className"])}
			}
		}
	}
	c.seen[name] = true
	fields, ok := sentSchemas[name]
	if !ok {
		raw, ok := c.spec.Schemas[name]
		if !ok {
			return []string{fmt.Sprintf("%s: schema %s not in the spec's field lists", path, name)}
		}
		var enum []string
		var pattern string
		switch {
		case json.Unmarshal(raw, &fields) == nil:
		case json.Unmarshal(raw, &enum) == nil:
			s, ok := v.(string)
			if !ok || !slices.Contains(enum, s) {
				return []string{fmt.Sprintf("%s: %s, want one of %v (%s)", path, describe(v), enum, name)}
			}
			return nil
		case json.Unmarshal(raw, &pattern) == nil:
			re := regexp.MustCompile("^" + strings.TrimPrefix(pattern, "string:") + "$")
			s, ok := v.(string)
			if !ok || !re.MatchString(s) {
				return []string{fmt.Sprintf("%s: %s, want a string matching %s (%s)", path, describe(v), re, name)}
			}
			return nil
		default:
			return []string{fmt.Sprintf("%s: schema %s: cannot read %s", path, name, raw)}
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %s, want an object (%s)", path, describe(v), name)}
	}
	var errs []string
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		fv, present := m[f]
		d := deviations[name+"."+f]
		switch {
		case d.kind == absent:
			if present {
				errs = append(errs, fmt.Sprintf("%s.%s: present, but listed as not sent (%s): update the deviations", path, f, d.why))
			}
			continue
		case !present && d.kind == optional:
			continue
		case !present:
			errs = append(errs, fmt.Sprintf("%s.%s: missing (%s)", path, f, name))
			continue
		case fv == nil && d.kind == nullable:
			continue
		case fv == nil:
			errs = append(errs, fmt.Sprintf("%s.%s: null, want %s (%s)", path, f, fields[f], name))
			continue
		}
		errs = append(errs, c.check(path+"."+f, fv, fields[f])...)
	}
	for _, f := range c.spec.Required[name] {
		if _, ok := m[f]; !ok {
			errs = append(errs, fmt.Sprintf("%s.%s: missing, and the spec marks it required (%s)", path, f, name))
		}
	}
	return errs
}

// describe names a JSON value's type for an error.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case map[string]any:
		return fmt.Sprintf("object with %d fields", len(x))
	}
	return fmt.Sprintf("%T", v)
}

// TestSpecCheckerCatchesRenames pins that the checker fails an answer whose
// field was renamed, mistyped or dropped, recursively.
func TestSpecCheckerCatchesRenames(t *testing.T) {
	good := map[string]any{"jobs": []any{map[string]any{"id": "0123456789abcdef0123456789abcdef", "status": "RUNNING"}}}
	c := NewSpecChecker(t)
	if errs := c.check("GET /jobs", good, "JobIdsWithStatusOverview"); len(errs) != 0 {
		t.Fatalf("a good answer fails: %v", errs)
	}
	for name, bad := range map[string]any{
		"renamed":       map[string]any{"jobs": []any{map[string]any{"jid": "0123456789abcdef0123456789abcdef", "status": "RUNNING"}}},
		"mistyped":      map[string]any{"jobs": []any{map[string]any{"id": "0123456789abcdef0123456789abcdef", "status": 1.0}}},
		"not an enum":   map[string]any{"jobs": []any{map[string]any{"id": "0123456789abcdef0123456789abcdef", "status": "ZOMBIE"}}},
		"not 32 hex":    map[string]any{"jobs": []any{map[string]any{"id": "v1-CountSum", "status": "RUNNING"}}},
		"not an array":  map[string]any{"jobs": map[string]any{}},
		"missing array": map[string]any{},
	} {
		if errs := c.check("GET /jobs", bad, "JobIdsWithStatusOverview"); len(errs) == 0 {
			t.Errorf("%s: the checker accepts %v", name, bad)
		}
	}
	// Every endpoint's schema, and every schema they name, is readable.
	for ep, typ := range c.spec.Endpoints {
		name := strings.Trim(typ, "[]")
		if _, ok := c.spec.Schemas[name]; !ok {
			t.Errorf("%s: schema %s missing from the field lists", ep, name)
		}
	}
	for name, raw := range c.spec.Schemas {
		var fields map[string]string
		if json.Unmarshal(raw, &fields) != nil {
			continue
		}
		for f, typ := range fields {
			base := strings.Trim(typ, "[]{}")
			switch base {
			case "string", "integer", "number", "boolean", "object":
				continue
			}
			if _, ok := c.spec.Schemas[base]; !ok {
				t.Errorf("%s.%s: schema %s missing from the field lists", name, f, base)
			}
		}
	}
	for key := range deviations {
		name, field, _ := strings.Cut(key, ".")
		fields, sent := sentSchemas[name]
		if !sent {
			if err := json.Unmarshal(c.spec.Schemas[name], &fields); err != nil {
				fields = nil
			}
		}
		if fields[field] == "" {
			t.Errorf("deviation %s names no field of the spec", key)
		}
	}
}
