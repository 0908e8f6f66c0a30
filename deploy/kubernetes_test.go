package deploy_test

// The Kubernetes manifests of deploy/kubernetes/ are validated here, since
// no cluster runs on the machines that test Tide: every manifest decodes
// strictly into k8s.io/api's types (an unknown or misspelt field is an
// error), the kustomizations list every manifest and every file they
// generate from, the references between objects resolve (Service
// selectors and ports, ConfigMaps and their keys, PersistentVolumeClaims,
// ServiceAccounts, Roles), each Tide process's configuration loads through
// Tide's own loader as its pod would give it, and the seed's settings are
// kept: the TaskManagers' 250m/500m CPU, the HorizontalPodAutoscaler's
// 1..15 at 35%, the scale subresource granted to Tide's autoscaler.
//
// kustomization.yaml files are read here, not built with kustomize's
// library (heavy to compile); when a `kustomize` binary (or kubectl, which
// has kustomize built in) is on PATH, TestKustomizeBuild also builds each
// variant with it and compares.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/tide-stream/tide/internal/config"
)

// variants are the kustomizations meant to be applied.
var variants = []string{"kubernetes/hpa", "kubernetes/tide"}

// The names the manifests give the seed's pieces.
const (
	jobManagerJob  = "tide-jobmanager"
	taskManagerDep = "tide-taskmanager"
	configMapName  = "tide-config"
	tideImage      = "tide:dev"
	// podIP stands in for the downward API's status.podIP.
	podIP = "10.244.0.7"
)

// kustomization is the part of kustomization.yaml that the manifests use;
// decoding is strict, so a field added there fails here until this test
// understands it.
type kustomization struct {
	APIVersion       string   `json:"apiVersion"`
	Kind             string   `json:"kind"`
	Namespace        string   `json:"namespace,omitempty"`
	Resources        []string `json:"resources,omitempty"`
	GeneratorOptions *struct {
		DisableNameSuffixHash bool              `json:"disableNameSuffixHash"`
		Labels                map[string]string `json:"labels,omitempty"`
	} `json:"generatorOptions,omitempty"`
	ConfigMapGenerator []struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	} `json:"configMapGenerator,omitempty"`
}

// bundle is what a kustomization builds: its objects by kind and name.
type bundle struct {
	namespace     string
	manifests     []string // files read, relative to deploy/
	namespaces    map[string]*corev1.Namespace
	configMaps    map[string]*corev1.ConfigMap
	generated     map[string][]string // generated ConfigMap → its source files
	services      map[string]*corev1.Service
	pvcs          map[string]*corev1.PersistentVolumeClaim
	accounts      map[string]*corev1.ServiceAccount
	deployments   map[string]*appsv1.Deployment
	jobs          map[string]*batchv1.Job
	hpas          map[string]*autoscalingv2.HorizontalPodAutoscaler
	roles         map[string]*rbacv1.Role
	roleBindings  map[string]*rbacv1.RoleBinding
	kustomization map[string]kustomization // by directory
}

func newBundle() *bundle {
	return &bundle{
		namespaces: map[string]*corev1.Namespace{}, configMaps: map[string]*corev1.ConfigMap{},
		generated: map[string][]string{}, services: map[string]*corev1.Service{},
		pvcs: map[string]*corev1.PersistentVolumeClaim{}, accounts: map[string]*corev1.ServiceAccount{},
		deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, roles: map[string]*rbacv1.Role{},
		roleBindings: map[string]*rbacv1.RoleBinding{}, kustomization: map[string]kustomization{},
	}
}

// kinds maps each kind the manifests may hold to its apiVersion and the
// bundle's map it goes to.
func (b *bundle) add(kind, apiVersion string, doc []byte) (string, error) {
	type kindInfo struct {
		apiVersion string
		put        func() (string, error)
	}
	strict := func(v any, meta func() *metav1.ObjectMeta) (string, error) {
		if err := yaml.UnmarshalStrict(doc, v); err != nil {
			return "", err
		}
		return meta().Name, nil
	}
	kinds := map[string]kindInfo{
		"Namespace": {"v1", func() (string, error) {
			o := &corev1.Namespace{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.namespaces, n, o, err)
		}},
		"ConfigMap": {"v1", func() (string, error) {
			o := &corev1.ConfigMap{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.configMaps, n, o, err)
		}},
		"Service": {"v1", func() (string, error) {
			o := &corev1.Service{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.services, n, o, err)
		}},
		"PersistentVolumeClaim": {"v1", func() (string, error) {
			o := &corev1.PersistentVolumeClaim{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.pvcs, n, o, err)
		}},
		"ServiceAccount": {"v1", func() (string, error) {
			o := &corev1.ServiceAccount{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.accounts, n, o, err)
		}},
		"Deployment": {"apps/v1", func() (string, error) {
			o := &appsv1.Deployment{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.deployments, n, o, err)
		}},
		"Job": {"batch/v1", func() (string, error) {
			o := &batchv1.Job{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.jobs, n, o, err)
		}},
		"HorizontalPodAutoscaler": {"autoscaling/v2", func() (string, error) {
			o := &autoscalingv2.HorizontalPodAutoscaler{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.hpas, n, o, err)
		}},
		"Role": {"rbac.authorization.k8s.io/v1", func() (string, error) {
			o := &rbacv1.Role{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.roles, n, o, err)
		}},
		"RoleBinding": {"rbac.authorization.k8s.io/v1", func() (string, error) {
			o := &rbacv1.RoleBinding{}
			n, err := strict(o, func() *metav1.ObjectMeta { return &o.ObjectMeta })
			return n, put(b.roleBindings, n, o, err)
		}},
	}
	k, ok := kinds[kind]
	if !ok {
		return "", fmt.Errorf("kind %q is not one this test decodes (add it)", kind)
	}
	if apiVersion != k.apiVersion {
		return "", fmt.Errorf("%s has apiVersion %q, want %q", kind, apiVersion, k.apiVersion)
	}
	return k.put()
}

func put[T any](m map[string]*T, name string, o *T, err error) error {
	if err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("an object without a name")
	}
	if _, dup := m[name]; dup {
		return fmt.Errorf("%s is defined twice", name)
	}
	m[name] = o
	return nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeFile adds every document of a manifest file to b.
func (b *bundle) decodeFile(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	n := 0
	for i, doc := range docSeparator.Split(string(data), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return fmt.Errorf("%s, document %d: %v", file, i+1, err)
		}
		if tm.Kind == "" && tm.APIVersion == "" && strings.TrimSpace(stripComments(doc)) == "" {
			continue // comments only
		}
		if _, err := b.add(tm.Kind, tm.APIVersion, []byte(doc)); err != nil {
			return fmt.Errorf("%s, document %d (%s): %v", file, i+1, tm.Kind, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s holds no object", file)
	}
	return nil
}

func stripComments(doc string) string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// readKustomization decodes dir/kustomization.yaml strictly.
func readKustomization(dir string) (kustomization, error) {
	var k kustomization
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return k, err
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return k, fmt.Errorf("%s/kustomization.yaml: %v", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return k, fmt.Errorf("%s/kustomization.yaml: apiVersion %q kind %q, want kustomize.config.k8s.io/v1beta1 Kustomization", dir, k.APIVersion, k.Kind)
	}
	return k, nil
}

// load builds the bundle of the kustomization in dir (relative to deploy/)
// as kustomize would: its resources, recursively, and its generated
// ConfigMaps.
func load(t *testing.T, dir string) *bundle {
	t.Helper()
	b := newBundle()
	if err := b.load(dir, map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) load(dir string, seen map[string]bool) error {
	dir = filepath.Clean(dir)
	if seen[dir] {
		return fmt.Errorf("%s is included twice", dir)
	}
	seen[dir] = true
	k, err := readKustomization(dir)
	if err != nil {
		return err
	}
	b.kustomization[dir] = k
	if k.Namespace != "" {
		if b.namespace != "" && b.namespace != k.Namespace {
			return fmt.Errorf("%s sets namespace %s, another kustomization %s", dir, k.Namespace, b.namespace)
		}
		b.namespace = k.Namespace
	}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s/kustomization.yaml lists %s: %v", dir, r, err)
		}
		if fi.IsDir() {
			if err := b.load(p, seen); err != nil {
				return err
			}
			continue
		}
		if err := b.decodeFile(p); err != nil {
			return err
		}
		b.manifests = append(b.manifests, p)
	}
	for _, g := range k.ConfigMapGenerator {
		if k.GeneratorOptions == nil || !k.GeneratorOptions.DisableNameSuffixHash {
			// kustomize would rename the ConfigMap name-<hash> and rewrite
			// the references; this test resolves names as written.
			return fmt.Errorf("%s/kustomization.yaml: configMapGenerator %s without disableNameSuffixHash", dir, g.Name)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: g.Name}, Data: map[string]string{}}
		for _, f := range g.Files {
			if strings.Contains(f, "=") {
				return fmt.Errorf("%s: configMapGenerator %s: key=file is not used here", dir, g.Name)
			}
			p := filepath.Join(dir, f)
			rel, err := filepath.Rel(dir, p)
			if err != nil || strings.HasPrefix(rel, "..") {
				return fmt.Errorf("%s: configMapGenerator %s: %s is outside the kustomization's directory (kustomize refuses it)", dir, g.Name, f)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("%s: configMapGenerator %s: %v", dir, g.Name, err)
			}
			cm.Data[filepath.Base(f)] = string(data)
			b.generated[g.Name] = append(b.generated[g.Name], p)
		}
		if err := put(b.configMaps, g.Name, cm, nil); err != nil {
			return fmt.Errorf("%s: %v", dir, err)
		}
	}
	return nil
}

// workload is a pod template and the object that owns it.
type workload struct {
	kind, name string
	tmpl       *corev1.PodTemplateSpec
}

func (b *bundle) workloads() []workload {
	var ws []workload
	for _, n := range slices.Sorted(maps.Keys(b.deployments)) {
		ws = append(ws, workload{"Deployment", n, &b.deployments[n].Spec.Template})
	}
	for _, n := range slices.Sorted(maps.Keys(b.jobs)) {
		ws = append(ws, workload{"Job", n, &b.jobs[n].Spec.Template})
	}
	return ws
}

func (w workload) String() string { return w.kind + " " + w.name }

// subset reports whether every label of sel is in labels.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort finds the port p (a name or a number) in the template.
func containerPort(tmpl *corev1.PodTemplateSpec, p intstr.IntOrString) (*corev1.ContainerPort, bool) {
	for _, c := range tmpl.Spec.Containers {
		for i, cp := range c.Ports {
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return &c.Ports[i], true
			}
		}
	}
	return nil, false
}

// selected returns the workloads whose pod labels a Service selects.
func (b *bundle) selected(svc *corev1.Service) []workload {
	var ws []workload
	for _, w := range b.workloads() {
		if len(svc.Spec.Selector) > 0 && subset(svc.Spec.Selector, w.tmpl.Labels) {
			ws = append(ws, w)
		}
	}
	return ws
}

// serviceAt resolves host:port as a Service of the bundle and returns the
// workload behind it and the container port the Service port leads to.
func (b *bundle) serviceAt(hostport string) (workload, *corev1.ContainerPort, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return workload{}, nil, err
	}
	port, _ := strconv.Atoi(portStr)
	svc, ok := b.services[host]
	if !ok {
		return workload{}, nil, fmt.Errorf("%s: no Service %s", hostport, host)
	}
	for _, sp := range svc.Spec.Ports {
		if int(sp.Port) != port {
			continue
		}
		ws := b.selected(svc)
		if len(ws) != 1 {
			return workload{}, nil, fmt.Errorf("%s: Service %s selects %d workloads, want 1", hostport, host, len(ws))
		}
		cp, ok := containerPort(ws[0].tmpl, targetPort(sp))
		if !ok {
			return workload{}, nil, fmt.Errorf("%s: Service %s port %d leads to no container port of %s", hostport, host, port, ws[0])
		}
		return ws[0], cp, nil
	}
	return workload{}, nil, fmt.Errorf("%s: Service %s has no port %d", hostport, host, port)
}

func targetPort(sp corev1.ServicePort) intstr.IntOrString {
	if sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "" || sp.TargetPort.IntVal != 0 {
		return sp.TargetPort
	}
	return intstr.FromInt32(sp.Port)
}

// portString is a Service port's target port as written.
func portString(sp corev1.ServicePort) string {
	p := targetPort(sp)
	return p.String()
}

// mountedFile returns the ConfigMap key that file is in a container of tmpl
// (through a configMap volume mounted at or above it), or ok false.
func (b *bundle) mountedFile(tmpl *corev1.PodTemplateSpec, c *corev1.Container, file string) (cm *corev1.ConfigMap, key string, ok bool) {
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, file)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		for _, v := range tmpl.Spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm := b.configMaps[v.ConfigMap.Name]
			if cm == nil {
				return nil, "", false
			}
			rel = path.Join(m.SubPath, rel)
			if len(v.ConfigMap.Items) == 0 {
				_, ok := cm.Data[rel]
				return cm, rel, ok
			}
			for _, it := range v.ConfigMap.Items {
				if it.Path == rel {
					_, ok := cm.Data[it.Key]
					return cm, it.Key, ok
				}
			}
		}
	}
	return nil, "", false
}

// volumeFor returns the volume mounted at mountPath in c, or nil.
func volumeFor(tmpl *corev1.PodTemplateSpec, c *corev1.Container, mountPath string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if m.MountPath == mountPath {
			for i, v := range tmpl.Spec.Volumes {
				if v.Name == m.Name {
					return &tmpl.Spec.Volumes[i]
				}
			}
		}
	}
	return nil
}

func envValue(c *corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

// fieldRefValues stand in for the downward API's values.
var fieldRefValues = map[string]string{
	"status.podIP":       podIP,
	"metadata.name":      "pod-0",
	"metadata.namespace": "tide",
}

// tideEnv returns the container's environment as os.Environ() would show
// it in the pod.
func tideEnv(t *testing.T, w workload, c *corev1.Container) []string {
	t.Helper()
	var env []string
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			f := e.ValueFrom.FieldRef
			if f == nil {
				t.Errorf("%s: env %s: only fieldRef is resolved here", w, e.Name)
				continue
			}
			var ok bool
			if v, ok = fieldRefValues[f.FieldPath]; !ok {
				t.Errorf("%s: env %s: fieldRef %s is not one this test knows", w, e.Name, f.FieldPath)
			}
		}
		env = append(env, e.Name+"="+v)
	}
	return env
}

// tideConfig loads the Tide configuration that the container's process
// would: $TIDE_HOME/conf/config.yaml from its mounted ConfigMap, then its
// TIDE_* environment, through Tide's own loader (unknown keys and bad
// values are errors there, as at a process's start).
func (b *bundle) tideConfig(t *testing.T, w workload, c *corev1.Container) *config.Config {
	t.Helper()
	home, ok := envValue(c, "TIDE_HOME")
	if !ok || !path.IsAbs(home.Value) {
		t.Fatalf("%s: container %s has no absolute TIDE_HOME", w, c.Name)
	}
	cm, key, ok := b.mountedFile(w.tmpl, c, path.Join(home.Value, "conf", "config.yaml"))
	if !ok {
		t.Fatalf("%s: no ConfigMap provides $TIDE_HOME/conf/config.yaml", w)
	}
	if cm.Name != configMapName {
		t.Errorf("%s: config.yaml comes from ConfigMap %s, want %s", w, cm.Name, configMapName)
	}
	known := map[string]bool{"TIDE_HOME": true}
	for _, k := range config.Keys() {
		known[k.Env] = true
		for _, a := range k.Aliases {
			known["TIDE_"+strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(a))] = true
		}
	}
	for _, e := range c.Env {
		// The loader ignores TIDE_ variables of unknown keys: a misspelt
		// one would be silently lost.
		if strings.HasPrefix(e.Name, "TIDE_") && !known[e.Name] {
			t.Errorf("%s: env %s is no configuration key's variable", w, e.Name)
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "config.yaml"), []byte(cm.Data[key]), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := config.Load(config.LoadOptions{Home: dir, Environ: tideEnv(t, w, c)})
	if err != nil {
		t.Fatalf("%s: Tide refuses the configuration of container %s: %v", w, c.Name, err)
	}
	return conf
}

func mustDuration(t *testing.T, conf *config.Config, key string) time.Duration {
	t.Helper()
	d, err := config.ParseDuration(conf.Get(key))
	if err != nil {
		t.Fatalf("%s = %q: %v", key, conf.Get(key), err)
	}
	return d
}

// container returns the workload's only container.
func container(t *testing.T, w workload) *corev1.Container {
	t.Helper()
	if len(w.tmpl.Spec.Containers) != 1 {
		t.Fatalf("%s has %d containers, want 1", w, len(w.tmpl.Spec.Containers))
	}
	return &w.tmpl.Spec.Containers[0]
}

// flagValue returns the value after flag in args.
func flagValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

// allowed reports whether the ServiceAccount sa may do verb on
// group/resource (named name) in the bundle's namespace, by its Roles.
func (b *bundle) allowed(sa, group, res, name, verb string) bool {
	for _, rb := range b.roleBindings {
		bound := false
		for _, s := range rb.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && (s.Namespace == "" || s.Namespace == b.namespace) {
				bound = true
			}
		}
		role := b.roles[rb.RoleRef.Name]
		if !bound || rb.RoleRef.Kind != "Role" || role == nil {
			continue
		}
		for _, r := range role.Rules {
			match := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
			if match(r.APIGroups, group) && match(r.Resources, res) && match(r.Verbs, verb) &&
				(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
				return true
			}
		}
	}
	return false
}

// TestKubernetesKustomizations: each kustomization lists every manifest of
// its directory, the files it generates ConfigMaps from exist, and the
// variants build: every manifest decodes strictly into k8s.io/api's types.
func TestKubernetesKustomizations(t *testing.T) {
	listed := map[string]bool{}
	for _, v := range variants {
		b := load(t, v)
		for _, m := range b.manifests {
			listed[m] = true
		}
		if b.namespace == "" || b.namespaces[b.namespace] == nil {
			t.Errorf("%s: namespace %q is not among its objects", v, b.namespace)
		}
	}
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		k, err := readKustomization(dir)
		if err != nil {
			t.Error(err)
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || n == "kustomization.yaml" || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				continue
			}
			// deploy/prometheus and deploy/grafana generate ConfigMaps from
			// some of their files (checked below); the manifests' own
			// directories list every manifest.
			if strings.HasPrefix(dir, "kubernetes") && !slices.Contains(k.Resources, n) {
				t.Errorf("%s/kustomization.yaml does not list %s", dir, n)
			}
		}
	}
	for _, dir := range []string{"kubernetes/base", "kubernetes/hpa", "kubernetes/tide"} {
		if !slices.Contains(dirs, dir) {
			t.Errorf("no %s/kustomization.yaml", dir)
		}
	}
	// Each manifest file of base and the variants is in some build.
	for _, dir := range []string{"kubernetes/base", "kubernetes/hpa", "kubernetes/tide"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			if filepath.Base(f) != "kustomization.yaml" && !listed[f] {
				t.Errorf("%s is in no variant's build", f)
			}
		}
	}
	// The Prometheus and Grafana files are generated, not copied.
	b := load(t, variants[0])
	want := map[string][]string{
		"prometheus-config":  {"prometheus/prometheus-kubernetes.yml", "prometheus/flink-compat.rules.yml"},
		"grafana-dashboards": {"grafana/tide-dashboard.json"},
	}
	for name, files := range want {
		if got := b.generated[name]; !slices.Equal(got, files) {
			t.Errorf("ConfigMap %s is generated from %v, want %v", name, got, files)
		}
	}
}

// TestKubernetesReferences: in each variant, the references between
// objects resolve.
func TestKubernetesReferences(t *testing.T) {
	for _, v := range variants {
		t.Run(filepath.Base(v), func(t *testing.T) {
			b := load(t, v)
			for name, svc := range b.services {
				ws := b.selected(svc)
				if len(ws) == 0 {
					t.Errorf("Service %s selects no pod template (selector %v)", name, svc.Spec.Selector)
				}
				for _, sp := range svc.Spec.Ports {
					for _, w := range ws {
						if _, ok := containerPort(w.tmpl, targetPort(sp)); !ok {
							t.Errorf("Service %s port %s: %s has no container port %s", name, sp.Name, w, portString(sp))
						}
					}
				}
			}
			for _, w := range b.workloads() {
				checkPodTemplate(t, b, w)
			}
			for name, d := range b.deployments {
				if d.Spec.Selector == nil || !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) || len(d.Spec.Selector.MatchLabels) == 0 {
					t.Errorf("Deployment %s: selector does not match its pod template's labels", name)
				}
			}
			for name, rb := range b.roleBindings {
				if rb.RoleRef.Kind != "Role" || b.roles[rb.RoleRef.Name] == nil {
					t.Errorf("RoleBinding %s: no Role %s", name, rb.RoleRef.Name)
				}
				for _, s := range rb.Subjects {
					if s.Kind != rbacv1.ServiceAccountKind || b.accounts[s.Name] == nil {
						t.Errorf("RoleBinding %s: subject %s %s does not exist", name, s.Kind, s.Name)
					}
				}
			}
			for name, h := range b.hpas {
				r := h.Spec.ScaleTargetRef
				if r.APIVersion != "apps/v1" || r.Kind != "Deployment" || b.deployments[r.Name] == nil {
					t.Errorf("HorizontalPodAutoscaler %s targets %s %s %s, which does not exist", name, r.APIVersion, r.Kind, r.Name)
				}
			}
		})
	}
}

func checkPodTemplate(t *testing.T, b *bundle, w workload) {
	t.Helper()
	spec := &w.tmpl.Spec
	if sa := spec.ServiceAccountName; sa != "" && b.accounts[sa] == nil {
		t.Errorf("%s: ServiceAccount %s does not exist", w, sa)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
		switch {
		case v.ConfigMap != nil:
			cm := b.configMaps[v.ConfigMap.Name]
			if cm == nil {
				t.Errorf("%s: volume %s: ConfigMap %s does not exist", w, v.Name, v.ConfigMap.Name)
				continue
			}
			for _, it := range v.ConfigMap.Items {
				if _, ok := cm.Data[it.Key]; !ok {
					t.Errorf("%s: volume %s: ConfigMap %s has no key %s", w, v.Name, cm.Name, it.Key)
				}
			}
		case v.PersistentVolumeClaim != nil:
			if b.pvcs[v.PersistentVolumeClaim.ClaimName] == nil {
				t.Errorf("%s: volume %s: PersistentVolumeClaim %s does not exist", w, v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		case v.EmptyDir != nil:
		case v.Secret != nil:
			// TestKubernetesSecurity checks the Secret, its files and modes.
		default:
			t.Errorf("%s: volume %s of a kind this test does not check", w, v.Name)
		}
	}
	for _, c := range spec.Containers {
		for _, m := range c.VolumeMounts {
			v, ok := volumes[m.Name]
			if !ok {
				t.Errorf("%s: container %s mounts volume %s, which the pod does not have", w, c.Name, m.Name)
				continue
			}
			if m.SubPath != "" && v.ConfigMap != nil {
				found := false
				for _, it := range v.ConfigMap.Items {
					found = found || strings.HasPrefix(it.Path, m.SubPath+"/") || it.Path == m.SubPath
				}
				if !found {
					t.Errorf("%s: container %s mounts %s of volume %s, which no item provides", w, c.Name, m.SubPath, m.Name)
				}
			}
		}
		if strings.HasPrefix(c.Image, "tide") && c.Image != tideImage {
			t.Errorf("%s: image %s, want %s like every Tide container", w, c.Image, tideImage)
		}
		if c.Image == tideImage {
			if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
				t.Errorf("%s: a Tide pod must run as a non-root user (the image's 65532)", w)
			}
		}
	}
	if a := w.tmpl.Annotations; a["prometheus.io/scrape"] == "true" {
		p, err := strconv.Atoi(a["prometheus.io/port"])
		if err != nil {
			t.Errorf("%s: prometheus.io/port %q is not a port number", w, a["prometheus.io/port"])
		} else if _, ok := containerPort(w.tmpl, intstr.FromInt(p)); !ok {
			t.Errorf("%s: prometheus.io/port %d is not a container port", w, p)
		}
	}
}

// TestKubernetesTideProcesses: the JobManager and TaskManager pods give
// their processes a configuration Tide accepts and that agrees with the
// pods: ports, Services, the checkpoint volume, the seed's settings.
func TestKubernetesTideProcesses(t *testing.T) {
	for _, v := range variants {
		t.Run(filepath.Base(v), func(t *testing.T) {
			b := load(t, v)
			job := b.jobs[jobManagerJob]
			dep := b.deployments[taskManagerDep]
			if job == nil || dep == nil {
				t.Fatalf("want Job %s and Deployment %s", jobManagerJob, taskManagerDep)
			}
			jm := workload{"Job", jobManagerJob, &job.Spec.Template}
			tm := workload{"Deployment", taskManagerDep, &dep.Spec.Template}
			jmc, tmc := container(t, jm), container(t, tm)
			jmConf, tmConf := b.tideConfig(t, jm, jmc), b.tideConfig(t, tm, tmc)

			// The JobManager: a restartable Job running the seed's job.
			if p := job.Spec.Template.Spec.RestartPolicy; p != corev1.RestartPolicyOnFailure {
				t.Errorf("JobManager Job: restartPolicy %s, want OnFailure", p)
			}
			if bl := job.Spec.BackoffLimit; bl == nil || *bl < 1 {
				t.Errorf("JobManager Job: backoffLimit %v, want restarts allowed", bl)
			}
			wantArgs := []string{"standalone-job", "start-foreground", "-j", "CPULoad", "--"}
			if len(jmc.Args) < len(wantArgs) || !slices.Equal(jmc.Args[:len(wantArgs)], wantArgs) {
				t.Errorf("JobManager args %v, want them to start with %v", jmc.Args, wantArgs)
			}
			jobArgs := jmc.Args[min(len(wantArgs), len(jmc.Args)):]
			for _, f := range []string{"--bootstrap-servers", "--topic", "--group-id"} {
				if _, ok := flagValue(jobArgs, f); !ok {
					t.Errorf("CPULoad's arguments %v lack %s", jobArgs, f)
				}
			}
			if jmConf.Get("scheduler-mode") != "reactive" {
				t.Errorf("scheduler-mode %s, want reactive", jmConf.Get("scheduler-mode"))
			}
			if d := mustDuration(t, jmConf, "execution.checkpointing.interval"); d != 30*time.Second {
				t.Errorf("execution.checkpointing.interval %v, want the seed's 30s", d)
			}
			if hi, ht := mustDuration(t, jmConf, "heartbeat.interval"), mustDuration(t, jmConf, "heartbeat.timeout"); hi != 5*time.Second || ht != 8*time.Second {
				t.Errorf("heartbeat %v/%v, want the seed's 5s/8s", hi, ht)
			}
			if jmConf.Get("jobmanager.recovery") != "latest-checkpoint" {
				t.Errorf("jobmanager.recovery %s: a restarted JobManager would not resume", jmConf.Get("jobmanager.recovery"))
			}

			// Checkpoints: a file:// directory on the same
			// PersistentVolumeClaim in the JobManager and every TaskManager.
			for _, x := range []struct {
				w    workload
				c    *corev1.Container
				conf *config.Config
			}{{jm, jmc, jmConf}, {tm, tmc, tmConf}} {
				u, err := url.Parse(x.conf.Get("state.checkpoints.dir"))
				if err != nil || u.Scheme != "file" {
					t.Fatalf("%s: state.checkpoints.dir %q, want a file:// URL", x.w, x.conf.Get("state.checkpoints.dir"))
				}
				vol := volumeFor(x.w.tmpl, x.c, u.Path)
				if vol == nil || vol.PersistentVolumeClaim == nil || vol.PersistentVolumeClaim.ClaimName != "tide-checkpoints" {
					t.Errorf("%s: state.checkpoints.dir %s is not the PersistentVolumeClaim tide-checkpoints mounted", x.w, u.Path)
				}
			}

			// Ports: the JobManager's RPC, REST and metrics, the
			// TaskManager's data and metrics, as the configuration has them.
			for _, p := range []struct {
				w    workload
				name string
				port string
			}{
				{jm, "rpc", jmConf.Get("jobmanager.rpc.port")},
				{jm, "rest", jmConf.Get("rest.port")},
				{tm, "data", tmConf.Get("taskmanager.data.port")},
			} {
				cp, ok := containerPort(p.w.tmpl, intstr.FromString(p.name))
				if !ok || strconv.Itoa(int(cp.ContainerPort)) != p.port {
					t.Errorf("%s: container port %s is not %s, the configured one", p.w, p.name, p.port)
				}
			}
			for _, x := range []struct {
				w    workload
				conf *config.Config
				tm   bool
			}{{jm, jmConf, false}, {tm, tmConf, true}} {
				lo, hi, err := x.conf.PromPortRange(x.tm)
				if err != nil || lo != hi {
					t.Errorf("%s: metrics.reporter.prom.port %d-%d (%v), want one port", x.w, lo, hi, err)
				}
				if a := x.w.tmpl.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != strconv.Itoa(lo) {
					t.Errorf("%s: scrape annotations %v, want prometheus.io/scrape true on port %d", x.w, a, lo)
				}
			}
			// The JobManager listens on every interface; its REST API and
			// /metrics (served on rest.address) too.
			if jmConf.Get("jobmanager.rpc.address") != "0.0.0.0" || jmConf.Get("rest.address") != "0.0.0.0" {
				t.Errorf("JobManager listens on %s (RPC) and %s (REST): unreachable from other pods",
					jmConf.Get("jobmanager.rpc.address"), jmConf.Get("rest.address"))
			}
			// TaskManagers reach the JobManager through its Service.
			rpc := net.JoinHostPort(tmConf.Get("jobmanager.rpc.address"), tmConf.Get("jobmanager.rpc.port"))
			w, cp, err := b.serviceAt(rpc)
			if err != nil {
				t.Errorf("TaskManagers register at %s: %v", rpc, err)
			} else if w.name != jobManagerJob || cp.Name != "rpc" {
				t.Errorf("TaskManagers register at %s, which leads to %s port %s", rpc, w, cp.Name)
			}
			// The REST API and UI on a NodePort, as the seed's.
			nodePort := false
			for _, svc := range b.services {
				if svc.Spec.Type != corev1.ServiceTypeNodePort {
					continue
				}
				for _, sp := range svc.Spec.Ports {
					if ws := b.selected(svc); len(ws) == 1 && ws[0].name == jobManagerJob && portString(sp) == "rest" {
						nodePort = true
					}
				}
			}
			if !nodePort {
				t.Error("no NodePort Service leads to the JobManager's REST port")
			}

			// The TaskManagers: the seed's resources, one slot, the pod's
			// IP advertised, a grace period longer than decommissioning.
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
				t.Errorf("TaskManager replicas %v, want 1 to start with", dep.Spec.Replicas)
			}
			res := tmc.Resources
			eq := func(l corev1.ResourceList, n corev1.ResourceName, want string) bool {
				q, ok := l[n]
				return ok && q.Cmp(resource.MustParse(want)) == 0
			}
			if !eq(res.Requests, corev1.ResourceCPU, "250m") || !eq(res.Limits, corev1.ResourceCPU, "500m") {
				t.Errorf("TaskManager CPU request %s limit %s, want the seed's 250m and 500m",
					res.Requests.Cpu(), res.Limits.Cpu())
			}
			if _, ok := res.Requests[corev1.ResourceMemory]; ok {
				t.Error("TaskManager requests memory; the seed's requests none")
			}
			if _, ok := res.Limits[corev1.ResourceMemory]; ok {
				t.Error("TaskManager limits memory, which would set a memory request equal to it; the seed's has none")
			}
			if len(res.Requests) != 1 || len(res.Limits) != 1 {
				t.Errorf("TaskManager resources %v, want CPU only", res)
			}
			if tmConf.Get("taskmanager.numberOfTaskSlots") != "1" {
				t.Errorf("taskmanager.numberOfTaskSlots %s, want 1", tmConf.Get("taskmanager.numberOfTaskSlots"))
			}
			if e, ok := envValue(tmc, "TIDE_TASKMANAGER_HOST"); !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
				e.ValueFrom.FieldRef.FieldPath != "status.podIP" || tmConf.Get("taskmanager.host") != podIP {
				t.Error("taskmanager.host is not the pod's IP (TIDE_TASKMANAGER_HOST from status.podIP)")
			}
			grace := dep.Spec.Template.Spec.TerminationGracePeriodSeconds
			if d := mustDuration(t, tmConf, "taskmanager.decommission.timeout"); grace == nil || time.Duration(*grace)*time.Second <= d {
				t.Errorf("TaskManager grace period %v s is not longer than taskmanager.decommission.timeout %v", grace, d)
			}

			// The seed's dashboard selects on deploymentId; Prometheus maps
			// the pods' label to the series.
			id := jm.tmpl.Labels["deploymentId"]
			if id == "" || tm.tmpl.Labels["deploymentId"] != id {
				t.Errorf("deploymentId labels %q (JobManager) and %q (TaskManager), want one value on both",
					id, tm.tmpl.Labels["deploymentId"])
			}
		})
	}
}

// promConfig is the part of a Prometheus configuration checked here.
type promConfig struct {
	RuleFiles     []string           `json:"rule_files"`
	ScrapeConfigs []promScrapeConfig `json:"scrape_configs"`
}

// promScrapeConfig is one scrape config: its discovery, how it connects,
// and its relabeling.
type promScrapeConfig struct {
	JobName   string `json:"job_name"`
	Scheme    string `json:"scheme"`
	TLSConfig *struct {
		CAFile             string `json:"ca_file"`
		CertFile           string `json:"cert_file"`
		KeyFile            string `json:"key_file"`
		ServerName         string `json:"server_name"`
		InsecureSkipVerify bool   `json:"insecure_skip_verify"`
	} `json:"tls_config"`
	Authorization *struct {
		Type            string `json:"type"`
		Credentials     string `json:"credentials"`
		CredentialsFile string `json:"credentials_file"`
	} `json:"authorization"`
	KubernetesSDConfigs []struct {
		Role       string `json:"role"`
		Namespaces struct {
			Names []string `json:"names"`
		} `json:"namespaces"`
	} `json:"kubernetes_sd_configs"`
	RelabelConfigs []struct {
		SourceLabels []string `json:"source_labels"`
		Separator    *string  `json:"separator"`
		Action       string   `json:"action"`
		Regex        *string  `json:"regex"`
	} `json:"relabel_configs"`
}

// TestKubernetesObservability: Kafka, the load, Prometheus and Grafana are
// wired to each other and to Tide's pods.
func TestKubernetesObservability(t *testing.T) {
	b := load(t, variants[0])
	jmc := container(t, workload{"Job", jobManagerJob, &b.jobs[jobManagerJob].Spec.Template})
	jobArgs := jmc.Args[slices.Index(jmc.Args, "--")+1:]

	// Kafka: the in-memory broker behind kafka-service, advertising the
	// name the job and the generator use.
	bootstrap, _ := flagValue(jobArgs, "--bootstrap-servers")
	w, cp, err := b.serviceAt(bootstrap)
	if err != nil {
		t.Fatalf("the job's --bootstrap-servers: %v", err)
	}
	kc := container(t, w)
	if !slices.Equal(kc.Args[:2], []string{"kafka", "start-foreground"}) {
		t.Errorf("%s runs %v, want tide kafka start-foreground", w, kc.Args)
	}
	host, _, _ := net.SplitHostPort(bootstrap)
	if v, _ := flagValue(kc.Args, "--advertised-host"); v != host {
		t.Errorf("the broker advertises %q, want %q: clients would follow its metadata elsewhere", v, host)
	}
	if v, _ := flagValue(kc.Args, "--host"); v != "0.0.0.0" {
		t.Errorf("the broker listens on %q, unreachable from other pods", v)
	}
	if v, _ := flagValue(kc.Args, "--port"); v != strconv.Itoa(int(cp.ContainerPort)) {
		t.Errorf("the broker listens on port %s, the Service leads to %d", v, cp.ContainerPort)
	}
	topic, _ := flagValue(jobArgs, "--topic")
	if v, _ := flagValue(kc.Args, "--topic"); v != topic+":1" {
		t.Errorf("the broker creates %q, want the seed's %s:1", v, topic)
	}
	gen := b.deployments["datagen"]
	if gen == nil {
		t.Fatal("no datagen Deployment")
	}
	gc := container(t, workload{"Deployment", "datagen", &gen.Spec.Template})
	for f, want := range map[string]string{"--bootstrap-servers": bootstrap, "--topic": topic, "--shape": "bursts"} {
		if v, _ := flagValue(gc.Args, f); gc.Args[0] != "datagen" || v != want {
			t.Errorf("datagen %v: %s is %q, want %q", gc.Args, f, v, want)
		}
	}

	// Prometheus: its configuration file and rules mounted from the
	// generated ConfigMap, pod discovery allowed in the namespace it
	// discovers, and deploymentId among the labels it keeps.
	pd := b.deployments["prometheus"]
	if pd == nil {
		t.Fatal("no prometheus Deployment")
	}
	pw := workload{"Deployment", "prometheus", &pd.Spec.Template}
	pc := container(t, pw)
	cfgFile, ok := flagValue(pc.Args, "--config.file")
	if !ok {
		t.Fatal("prometheus has no --config.file")
	}
	cm, key, ok := b.mountedFile(pw.tmpl, pc, cfgFile)
	if !ok {
		t.Fatalf("prometheus's %s is in no mounted ConfigMap", cfgFile)
	}
	var pcfg promConfig
	if err := yaml.Unmarshal([]byte(cm.Data[key]), &pcfg); err != nil {
		t.Fatal(err)
	}
	for _, r := range pcfg.RuleFiles {
		if _, _, ok := b.mountedFile(pw.tmpl, pc, path.Join(path.Dir(cfgFile), r)); !ok {
			t.Errorf("prometheus's rule file %s is not mounted beside its configuration", r)
		}
	}
	if len(pcfg.ScrapeConfigs) == 0 {
		t.Fatal("prometheus-kubernetes.yml: no scrape config")
	}
	for _, sc := range pcfg.ScrapeConfigs {
		if len(sc.KubernetesSDConfigs) != 1 {
			t.Errorf("prometheus-kubernetes.yml: scrape config %s: want one Kubernetes discovery", sc.JobName)
			continue
		}
		sd := sc.KubernetesSDConfigs[0]
		if sd.Role != "pod" || !slices.Equal(sd.Namespaces.Names, []string{b.namespace}) {
			t.Errorf("prometheus job %s discovers %s in %v, want pods in %s", sc.JobName, sd.Role, sd.Namespaces.Names, b.namespace)
		}
		kept := false
		for _, rc := range sc.RelabelConfigs {
			if rc.Action == "labelmap" && rc.Regex != nil {
				re := regexp.MustCompile("^(?:" + *rc.Regex + ")$")
				kept = kept || re.MatchString("__meta_kubernetes_pod_label_deploymentId")
				if re.MatchString("__meta_kubernetes_pod_label_job_name") {
					t.Errorf("prometheus job %s maps the Job's job-name pod label to job_name, which displaces Tide's job_name", sc.JobName)
				}
			}
		}
		if !kept {
			t.Errorf("prometheus job %s does not map the deploymentId pod label to series", sc.JobName)
		}
	}
	sa := pd.Spec.Template.Spec.ServiceAccountName
	for _, verb := range []string{"get", "list", "watch"} {
		if !b.allowed(sa, "", "pods", "", verb) {
			t.Errorf("prometheus's ServiceAccount %q may not %s pods", sa, verb)
		}
	}

	// Grafana: the data source is the Prometheus Service, the dashboards
	// provider reads the mounted dashboard, which is the home page.
	gd := b.deployments["grafana"]
	if gd == nil {
		t.Fatal("no grafana Deployment")
	}
	gw := workload{"Deployment", "grafana", &gd.Spec.Template}
	gfc := container(t, gw)
	cm, key, ok = b.mountedFile(gw.tmpl, gfc, "/etc/grafana/provisioning/datasources/prometheus.yaml")
	if !ok {
		t.Fatal("grafana: no provisioned data source")
	}
	var ds struct {
		Datasources []struct {
			Type, URL string
			IsDefault bool `json:"isDefault"`
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data[key]), &ds); err != nil || len(ds.Datasources) != 1 {
		t.Fatalf("grafana data sources: %v %+v", err, ds)
	}
	u, err := url.Parse(ds.Datasources[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	if w, _, err := b.serviceAt(u.Host); err != nil || w.name != "prometheus" || ds.Datasources[0].Type != "prometheus" || !ds.Datasources[0].IsDefault {
		t.Errorf("grafana's data source %+v does not lead to the prometheus Deployment as the default (%v)", ds.Datasources[0], err)
	}
	cm, key, ok = b.mountedFile(gw.tmpl, gfc, "/etc/grafana/provisioning/dashboards/tide.yaml")
	if !ok {
		t.Fatal("grafana: no provisioned dashboards provider")
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data[key]), &prov); err != nil || len(prov.Providers) != 1 {
		t.Fatalf("grafana dashboards providers: %v %+v", err, prov)
	}
	dash := path.Join(prov.Providers[0].Options.Path, "tide-dashboard.json")
	cm, key, ok = b.mountedFile(gw.tmpl, gfc, dash)
	if !ok || cm.Name != "grafana-dashboards" {
		t.Fatalf("grafana: %s is not the generated dashboard", dash)
	}
	if !json.Valid([]byte(cm.Data[key])) {
		t.Error("the dashboard is not JSON")
	}
	if home, _ := envValue(gfc, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"); home.Value != dash {
		t.Errorf("grafana's home dashboard %q, want %s", home.Value, dash)
	}
}

// TestKubernetesAutoscalers: the hpa variant has the seed's
// HorizontalPodAutoscaler and no other autoscaler; the tide variant has
// Tide's autoscaler, allowed to scale the TaskManagers, and no HPA.
func TestKubernetesAutoscalers(t *testing.T) {
	t.Run("hpa", func(t *testing.T) {
		b := load(t, "kubernetes/hpa")
		if len(b.hpas) != 1 || b.deployments["tide-autoscaler"] != nil {
			t.Fatalf("%d HorizontalPodAutoscalers and autoscaler Deployment %v, want 1 and none", len(b.hpas), b.deployments["tide-autoscaler"] != nil)
		}
		for name, h := range b.hpas {
			s := h.Spec
			if s.ScaleTargetRef.Kind != "Deployment" || s.ScaleTargetRef.Name != taskManagerDep {
				t.Errorf("HPA %s scales %s %s, want Deployment %s", name, s.ScaleTargetRef.Kind, s.ScaleTargetRef.Name, taskManagerDep)
			}
			if s.MinReplicas == nil || *s.MinReplicas != 1 || s.MaxReplicas != 15 {
				t.Errorf("HPA %s: replicas %v..%d, want the seed's 1..15", name, s.MinReplicas, s.MaxReplicas)
			}
			if len(s.Metrics) != 1 || s.Metrics[0].Resource == nil || s.Metrics[0].Resource.Name != corev1.ResourceCPU ||
				s.Metrics[0].Resource.Target.Type != autoscalingv2.UtilizationMetricType ||
				s.Metrics[0].Resource.Target.AverageUtilization == nil || *s.Metrics[0].Resource.Target.AverageUtilization != 35 {
				t.Errorf("HPA %s: metrics %+v, want CPU utilization 35%% only (the seed's --cpu-percent=35)", name, s.Metrics)
			}
			if s.Behavior != nil {
				t.Errorf("HPA %s sets a behavior; the seed's has Kubernetes' defaults", name)
			}
		}
	})
	t.Run("tide", func(t *testing.T) {
		b := load(t, "kubernetes/tide")
		if len(b.hpas) != 0 {
			t.Fatalf("%d HorizontalPodAutoscalers beside Tide's autoscaler", len(b.hpas))
		}
		d := b.deployments["tide-autoscaler"]
		if d == nil {
			t.Fatal("no tide-autoscaler Deployment")
		}
		w := workload{"Deployment", "tide-autoscaler", &d.Spec.Template}
		c := container(t, w)
		if c.Args[0] != "autoscaler" {
			t.Errorf("args %v, want tide autoscaler", c.Args)
		}
		for f, want := range map[string]string{"--policy": "tide", "--driver": "kubernetes", "--min": "1", "--max": "15"} {
			if v, _ := flagValue(c.Args, f); v != want {
				t.Errorf("tide autoscaler %s %q, want %q", f, v, want)
			}
		}
		conf := b.tideConfig(t, w, c)
		if w, cp, err := b.serviceAt(net.JoinHostPort(conf.Get("rest.address"), conf.Get("rest.port"))); err != nil || w.name != jobManagerJob || cp.Name != "rest" {
			t.Errorf("the autoscaler's rest.address:rest.port does not lead to the JobManager's REST port (%v)", err)
		}
		sa := d.Spec.Template.Spec.ServiceAccountName
		for _, verb := range []string{"get", "update", "patch"} {
			if !b.allowed(sa, "apps", "deployments/scale", taskManagerDep, verb) {
				t.Errorf("ServiceAccount %q may not %s deployments/scale of %s", sa, verb, taskManagerDep)
			}
		}
		if !b.allowed(sa, "apps", "deployments", taskManagerDep, "get") || !b.allowed(sa, "", "pods", "", "list") {
			t.Errorf("ServiceAccount %q may not get the Deployment or list pods", sa)
		}
		if b.allowed(sa, "apps", "deployments", taskManagerDep, "update") || b.allowed(sa, "apps", "deployments/scale", "prometheus", "patch") {
			t.Errorf("ServiceAccount %q may change more than the TaskManagers' scale", sa)
		}
	})
}

// TestKubernetesDockerfile: the image the manifests name is built as the
// README says, static and non-root, with the TIDE_HOME the pods mount.
func TestKubernetesDockerfile(t *testing.T) {
	data, err := os.ReadFile("kubernetes/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	var froms []string
	for _, l := range strings.Split(df, "\n") {
		if f, ok := strings.CutPrefix(l, "FROM "); ok {
			froms = append(froms, f)
		}
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[1], "gcr.io/distroless/static") {
		t.Errorf("stages %v, want a build stage and distroless's static image", froms)
	}
	final := df[strings.LastIndex(df, "\nFROM "):]
	for _, want := range []string{"CGO_ENABLED=0 go build", "./cmd/tide", "USER 65532", "ENV TIDE_HOME=/opt/tide", `ENTRYPOINT ["/usr/local/bin/tide"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	if !strings.Contains(final, "USER 65532") {
		t.Error("the final stage does not run as a non-root user")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if build := "docker build -f deploy/kubernetes/Dockerfile -t " + tideImage + " ."; !bytes.Contains(readme, []byte(build)) {
		t.Errorf("the README does not show %q", build)
	}
}

// TestKustomizeBuild builds each variant with a kustomize binary, or
// kubectl's kustomize, when one is on PATH, and compares its objects with
// what this test reads.
func TestKustomizeBuild(t *testing.T) {
	bin, build := "kustomize", "build"
	if _, err := exec.LookPath(bin); err != nil {
		bin, build = "kubectl", "kustomize"
		if _, err := exec.LookPath(bin); err != nil {
			t.Skip("no kustomize or kubectl on PATH; the kustomizations are read by this test instead")
		}
	}
	for _, v := range variants {
		out, err := exec.Command(bin, build, v).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s %s: %v\n%s", bin, build, v, err, out)
		}
		var got []string
		for _, doc := range docSeparator.Split(string(out), -1) {
			var o struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name, Namespace string
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
				t.Fatal(err)
			}
			if o.Kind != "" {
				got = append(got, o.Kind+"/"+o.Metadata.Name)
			}
		}
		b := load(t, v)
		var want []string
		add := func(kind string, names []string) {
			for _, n := range names {
				want = append(want, kind+"/"+n)
			}
		}
		add("Namespace", slices.Collect(maps.Keys(b.namespaces)))
		add("ConfigMap", slices.Collect(maps.Keys(b.configMaps)))
		add("Service", slices.Collect(maps.Keys(b.services)))
		add("PersistentVolumeClaim", slices.Collect(maps.Keys(b.pvcs)))
		add("ServiceAccount", slices.Collect(maps.Keys(b.accounts)))
		add("Deployment", slices.Collect(maps.Keys(b.deployments)))
		add("Job", slices.Collect(maps.Keys(b.jobs)))
		add("HorizontalPodAutoscaler", slices.Collect(maps.Keys(b.hpas)))
		add("Role", slices.Collect(maps.Keys(b.roles)))
		add("RoleBinding", slices.Collect(maps.Keys(b.roleBindings)))
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s %s gives\n%v\nthis test reads\n%v", bin, build, v, got, want)
		}
	}
}
