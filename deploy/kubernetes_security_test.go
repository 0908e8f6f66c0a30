package deploy_test

// The security of deploy/kubernetes/: the processes would start (the check
// a JobManager or TaskManager makes before it binds a port beyond
// loopback), every file their security keys name is in the Secret that
// README.md has the user make with `tide secrets create` and mounted
// where the key says, readable by the pod's user and no one else, the
// probes work against authenticated ports, and Prometheus scrapes the
// secured ports with the REST CA, the token and a server name that the
// REST certificate names.

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/pki"
	"github.com/tide-stream/tide/internal/security"
)

// tideSecret is the Secret the manifests mount, which the user makes from
// what `tide secrets create` wrote (README.md).
const tideSecret = "tide-secrets"

// autoscalerDep is the tide variant's autoscaler.
const autoscalerDep = "tide-autoscaler"

// restClientKeys are the keys a REST client of Tide's reads
// (security.ClientFromConfig): the CA it trusts, the certificate it
// presents, the token it sends.
var restClientKeys = []string{"security.ssl.rest.ca-file", "security.ssl.rest.client-cert-file",
	"security.ssl.rest.client-key-file", "rest.auth.token-file"}

// createdSecrets runs what `tide secrets create --dir DIR --host …` runs
// into a temporary directory, and returns its files and the keys that
// `kubectl create secret generic --from-file=DIR` gives the Secret: the
// names of the regular files at the top of DIR.
func createdSecrets(t *testing.T, hosts []string) (*pki.Files, map[string]bool) {
	t.Helper()
	f, err := pki.Create(pki.Options{Dir: filepath.Join(t.TempDir(), "secrets"), Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			keys[e.Name()] = true
		}
	}
	if keys[filepath.Base(f.InternalCAKey)] || keys[filepath.Base(f.RESTCAKey)] || len(keys) == 0 {
		t.Fatalf("the Secret would hold %v", slices.Sorted(maps.Keys(keys)))
	}
	return f, keys
}

// verifyREST checks the REST certificate of f as a client that reaches it
// by name does: chained to the REST CA, for server authentication, naming
// name.
func verifyREST(f *pki.Files, name string) error {
	caPEM, err := os.ReadFile(f.RESTCA)
	if err != nil {
		return err
	}
	certPEM, err := os.ReadFile(f.RESTCert)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no certificate", f.RESTCA)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return fmt.Errorf("%s holds no PEM block", f.RESTCert)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	_, err = cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

// readmeSecrets is the README's step that makes the Secret.
type readmeSecrets struct {
	// dir and hosts are the --dir and the --host names of its
	// `tide secrets create`.
	dir   string
	hosts []string
	// secret, namespace and fromFile are the name, the namespace and the
	// --from-file of its `kubectl create secret generic`.
	secret, namespace, fromFile string
}

// readReadmeSecrets finds the step in the shell blocks of README.md's
// section Kubernetes, and checks that it comes after the namespace exists
// and before the manifests are applied.
func readReadmeSecrets(t *testing.T) readmeSecrets {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "\n## Kubernetes\n")
	if start < 0 {
		t.Fatal("README.md has no section Kubernetes")
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var lines []string // the commands of the section's shell blocks
	in := false
	for _, l := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			in = !in && strings.TrimPrefix(l, "```") == "sh"
		case in && !strings.HasPrefix(strings.TrimSpace(l), "#"):
			lines = append(lines, l)
		}
	}
	var rs readmeSecrets
	create, secret, ns, apply := -1, -1, -1, -1
	for i, l := range lines {
		f := strings.Fields(l)
		switch {
		case strings.Contains(l, "tide secrets create"):
			if create >= 0 {
				t.Errorf("README.md: two `tide secrets create` in section Kubernetes")
			}
			create = i
			for j, a := range f {
				next := func() string {
					if j+1 < len(f) {
						return f[j+1]
					}
					return ""
				}
				switch {
				case a == "--dir":
					rs.dir = next()
				case strings.HasPrefix(a, "--dir="):
					rs.dir = strings.TrimPrefix(a, "--dir=")
				case a == "--host":
					rs.hosts = append(rs.hosts, strings.Split(next(), ",")...)
				case strings.HasPrefix(a, "--host="):
					rs.hosts = append(rs.hosts, strings.Split(strings.TrimPrefix(a, "--host="), ",")...)
				}
			}
		case strings.Contains(l, "create secret generic"):
			secret = i
			for j, a := range f {
				switch {
				case a == "generic" && j+1 < len(f):
					rs.secret = f[j+1]
				case (a == "-n" || a == "--namespace") && j+1 < len(f):
					rs.namespace = f[j+1]
				case strings.HasPrefix(a, "--from-file="):
					rs.fromFile = strings.TrimPrefix(a, "--from-file=")
				}
			}
		case ns < 0 && (strings.Contains(l, "kubectl create namespace") || strings.Contains(l, "kubectl apply -f deploy/kubernetes/base/namespace.yaml")):
			ns = i
		case apply < 0 && strings.Contains(l, "kubectl apply -k"):
			apply = i
		}
	}
	if create < 0 || secret < 0 || apply < 0 {
		t.Fatalf("README.md, section Kubernetes: no `tide secrets create` (%v), `kubectl create secret generic` (%v) or `kubectl apply -k` (%v)",
			create >= 0, secret >= 0, apply >= 0)
	}
	if !(create < secret && secret < apply) {
		t.Error("README.md: the Secret is not made (tide secrets create, then kubectl create secret) before the manifests are applied")
	}
	if ns < 0 || ns > secret {
		t.Error("README.md: the namespace is not created before the Secret is made in it")
	}
	if rs.dir == "" || rs.fromFile != rs.dir {
		t.Errorf("README.md: the Secret is made --from-file=%s, `tide secrets create` writes --dir %q", rs.fromFile, rs.dir)
	}
	if len(rs.hosts) == 0 {
		t.Error("README.md: `tide secrets create` has no --host: the REST certificate would name localhost only")
	}
	return rs
}

// secretFile returns the key of the Secret tideSecret that file is in
// container c of tmpl: a mount of a secret volume at or above it (no
// subPath), and, when the volume lists items, the item of that path.
func secretFile(tmpl *corev1.PodTemplateSpec, c *corev1.Container, file string) (key string, err error) {
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, file)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		for _, v := range tmpl.Spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret == nil || v.Secret.SecretName != tideSecret {
				return "", fmt.Errorf("%s is in volume %s, which is not the Secret %s", file, v.Name, tideSecret)
			}
			if m.SubPath != "" {
				return "", fmt.Errorf("%s: volume %s is mounted with a subPath, which the kubelet does not update when the Secret changes", file, v.Name)
			}
			if len(v.Secret.Items) == 0 {
				return rel, nil
			}
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					return it.Key, nil
				}
			}
			return "", fmt.Errorf("%s: volume %s lists no item %s", file, v.Name, rel)
		}
	}
	return "", fmt.Errorf("%s is in no volume mounted in container %s", file, c.Name)
}

// securityFiles returns the security.* and rest.auth.* keys of conf that
// name a file, and the file.
func securityFiles(conf *config.Config) map[string]string {
	out := map[string]string{}
	for _, k := range config.Keys() {
		if k.Type == config.TypePath && (strings.HasPrefix(k.Key, "security.") || strings.HasPrefix(k.Key, "rest.auth.")) {
			if v := conf.Get(k.Key); v != "" {
				out[k.Key] = v
			}
		}
	}
	return out
}

// checkSecretVolume checks a volume of the Secret and the pod that has it:
// the Secret is the one README.md makes, its files are readable by the
// pod's user through its group and by no one else, and it is mounted
// read-only, whole, so that the kubelet updates it.
func checkSecretVolume(t *testing.T, w workload, v corev1.Volume, keys map[string]bool) {
	t.Helper()
	s := v.Secret
	if s.SecretName != tideSecret {
		t.Errorf("%s: volume %s is the Secret %s; the only one README.md makes is %s", w, v.Name, s.SecretName, tideSecret)
	}
	if s.Optional != nil && *s.Optional {
		t.Errorf("%s: volume %s: the Secret is optional; a Tide pod without its files fails at start", w, v.Name)
	}
	mode := func(what string, m *int32) {
		switch {
		case m == nil:
			t.Errorf("%s: volume %s: %s is not set: the default, 0644, lets every user of the pod read the keys and tokens", w, v.Name, what)
		case *m&0o007 != 0:
			t.Errorf("%s: volume %s: %s %#o lets every user of the pod read the keys and tokens", w, v.Name, what, *m)
		case *m&0o040 == 0:
			t.Errorf("%s: volume %s: %s %#o: the files are root's, and the pod's user reads them through fsGroup only", w, v.Name, what, *m)
		}
	}
	mode("defaultMode", s.DefaultMode)
	for _, it := range s.Items {
		if !keys[it.Key] {
			t.Errorf("%s: volume %s: item %s is no file of `tide secrets create` (%v)", w, v.Name, it.Key, slices.Sorted(maps.Keys(keys)))
		}
		if it.Path != it.Key {
			t.Errorf("%s: volume %s: item %s is at %s; keep the name `tide secrets create` gives it", w, v.Name, it.Key, it.Path)
		}
		if it.Mode != nil {
			mode("the mode of "+it.Key, it.Mode)
		}
	}
	sc := w.tmpl.Spec.SecurityContext
	if sc == nil || sc.FSGroup == nil || sc.RunAsGroup == nil || *sc.FSGroup != *sc.RunAsGroup ||
		sc.RunAsUser == nil || *sc.RunAsUser == 0 || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: a pod with the Secret must run as a non-root user whose group (runAsGroup) is the fsGroup, which owns the Secret's files", w)
	}
	for _, c := range slices.Concat(w.tmpl.Spec.InitContainers, w.tmpl.Spec.Containers) {
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name && (!m.ReadOnly || m.SubPath != "") {
				t.Errorf("%s: container %s mounts the Secret %s read-write or with a subPath; want read-only and whole", w, c.Name, tideSecret)
			}
		}
	}
}

// tlsPorts are the container ports of a JobManager (jobManager true) or
// TaskManager that serve TLS as conf configures them, by number.
func tlsPorts(t *testing.T, conf *config.Config, jobManager bool) map[int32]string {
	t.Helper()
	out := map[int32]string{}
	port := func(key string) {
		p, err := strconv.Atoi(conf.Get(key))
		if err != nil {
			t.Fatalf("%s %q: %v", key, conf.Get(key), err)
		}
		out[int32(p)] = key
	}
	lo, _, err := conf.PromPortRange(!jobManager)
	if err != nil {
		t.Fatal(err)
	}
	if conf.RESTTLS.Enabled {
		out[int32(lo)] = "metrics.reporter.prom.port"
		if jobManager {
			port("rest.port")
		}
	}
	if conf.InternalTLS.Enabled {
		if jobManager {
			port("jobmanager.rpc.port")
		} else {
			port("taskmanager.data.port")
		}
	}
	return out
}

// checkProbes checks that the probes of a JobManager's or TaskManager's
// container work against its authenticated ports: an httpGet probe, which
// sends no token and no client certificate, asks over HTTPS for a path
// that the REST server serves without them (the web UI's, GET / and
// /ui/…); no tcpSocket probe of a TLS port, whose server would log a
// failed handshake at every probe.
func checkProbes(t *testing.T, w workload, c *corev1.Container, conf *config.Config, jobManager bool) {
	t.Helper()
	tls := tlsPorts(t, conf, jobManager)
	restPort, _ := strconv.Atoi(conf.Get("rest.port"))
	resolve := func(p intstr.IntOrString) int32 {
		cp, ok := containerPort(w.tmpl, p)
		if !ok {
			t.Errorf("%s: a probe's port %s is no container port", w, p.String())
			return -1
		}
		return cp.ContainerPort
	}
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		switch {
		case p == nil:
		case p.HTTPGet != nil:
			port := resolve(p.HTTPGet.Port)
			if conf.RESTTLS.Enabled && p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("%s: the %s probe asks over HTTP (scheme %q); the port serves HTTPS (security.ssl.rest.enabled)", w, name, p.HTTPGet.Scheme)
			}
			if conf.RESTTokenFile != "" || conf.RESTTLS.ClientAuth {
				open := p.HTTPGet.Path == "/" || strings.HasPrefix(p.HTTPGet.Path, "/ui/")
				switch {
				case !jobManager || int(port) != restPort:
					t.Errorf("%s: the %s probe asks port %d, where every path needs the REST token", w, name, port)
				case !open:
					t.Errorf("%s: the %s probe asks for %s, which needs the REST token a kubelet probe cannot send (GET / does not)", w, name, p.HTTPGet.Path)
				case conf.RESTTLS.ClientAuth:
					t.Errorf("%s: the %s probe cannot present the client certificate security.ssl.rest.authentication-enabled demands", w, name)
				}
			}
		case p.TCPSocket != nil:
			if key, ok := tls[resolve(p.TCPSocket.Port)]; ok {
				t.Errorf("%s: the %s probe opens TCP connections to the TLS port of %s, which logs a failed handshake at every probe", w, name, key)
			}
		default:
			t.Errorf("%s: the %s probe is of a kind this test does not check", w, name)
		}
	}
}

// keeps reports whether the keep and drop rules of sc keep a pod with
// these annotations and labels, as Prometheus's pod discovery names them.
// The rules may read only the pod's metadata: the other actions are not
// applied here.
func (sc promScrapeConfig) keeps(annotations, labels map[string]string) (bool, error) {
	meta := map[string]string{}
	sanitize := regexp.MustCompile(`[^a-zA-Z0-9_]`)
	for prefix, m := range map[string]map[string]string{"annotation": annotations, "label": labels} {
		for k, v := range m {
			n := sanitize.ReplaceAllString(k, "_")
			meta["__meta_kubernetes_pod_"+prefix+"_"+n] = v
			meta["__meta_kubernetes_pod_"+prefix+"present_"+n] = "true"
		}
	}
	for _, rc := range sc.RelabelConfigs {
		if rc.Action != "keep" && rc.Action != "drop" {
			continue
		}
		vals := make([]string, len(rc.SourceLabels))
		for i, l := range rc.SourceLabels {
			if !strings.HasPrefix(l, "__meta_kubernetes_pod_annotation") && !strings.HasPrefix(l, "__meta_kubernetes_pod_label") {
				return false, fmt.Errorf("job %s: a %s rule reads %s, which this test does not know", sc.JobName, rc.Action, l)
			}
			vals[i] = meta[l]
		}
		sep, re := ";", "(.*)"
		if rc.Separator != nil {
			sep = *rc.Separator
		}
		if rc.Regex != nil {
			re = *rc.Regex
		}
		r, err := regexp.Compile("^(?:" + re + ")$")
		if err != nil {
			return false, fmt.Errorf("job %s: %v", sc.JobName, err)
		}
		if r.MatchString(strings.Join(vals, sep)) != (rc.Action == "keep") {
			return false, nil
		}
	}
	return true, nil
}

// TestKubernetesSecurity: in each variant, the JobManager and the
// TaskManagers pass the check that refuses an unauthenticated port beyond
// loopback, with every key that `tide secrets create` prints turned on;
// every file the Tide pods' security keys name is in the Secret README.md
// makes, mounted there; the REST certificate made with README.md's --host
// names the Services of the REST and metrics ports and what the autoscaler
// calls the JobManager; the probes need no token.
func TestKubernetesSecurity(t *testing.T) {
	rs := readReadmeSecrets(t)
	files, keys := createdSecrets(t, rs.hosts)
	for _, v := range variants {
		t.Run(filepath.Base(v), func(t *testing.T) {
			b := load(t, v)
			if rs.secret != tideSecret || rs.namespace != b.namespace {
				t.Errorf("README.md makes the Secret %s in namespace %q; the pods mount %s in %s", rs.secret, rs.namespace, tideSecret, b.namespace)
			}
			for _, w := range b.workloads() {
				for _, vol := range w.tmpl.Spec.Volumes {
					if vol.Secret != nil {
						checkSecretVolume(t, w, vol, keys)
					}
				}
			}
			job, dep := b.jobs[jobManagerJob], b.deployments[taskManagerDep]
			if job == nil || dep == nil {
				t.Fatalf("want Job %s and Deployment %s", jobManagerJob, taskManagerDep)
			}
			type process struct {
				w          workload
				jobManager bool
			}
			for _, p := range []process{{workload{"Job", jobManagerJob, &job.Spec.Template}, true}, {workload{"Deployment", taskManagerDep, &dep.Spec.Template}, false}} {
				c := container(t, p.w)
				conf := b.tideConfig(t, p.w, c)
				// What the process checks before it binds anything.
				if conf.AllowInsecure {
					t.Errorf("%s: security.allow-insecure is true", p.w)
				}
				if err := security.CheckBind(conf, security.Ports(conf, p.jobManager)...); err != nil {
					t.Errorf("%s would refuse to start: %v", p.w, err)
				}
				// Every key that `tide secrets create` prints, with its file.
				for _, kv := range files.Dynamic() {
					key, want, _ := strings.Cut(kv, "=")
					if rel, ok := strings.CutPrefix(want, files.Dir+string(filepath.Separator)); ok {
						if got := conf.Get(key); path.Base(got) != rel {
							t.Errorf("%s: %s is %q, want the file %s of `tide secrets create`", p.w, key, got, rel)
						}
					} else if got := conf.Get(key); got != want {
						t.Errorf("%s: %s is %q, want %s", p.w, key, got, want)
					}
				}
				// Every file a security key names is in the Secret, there.
				for key, file := range securityFiles(conf) {
					k, err := secretFile(p.w.tmpl, c, file)
					if err != nil {
						t.Errorf("%s: %s: %v", p.w, key, err)
					} else if k != path.Base(file) || !keys[k] {
						t.Errorf("%s: %s is %s, which is the Secret's %s; want a file `tide secrets create` writes under its own name", p.w, key, file, k)
					}
				}
				checkProbes(t, p.w, c, conf, p.jobManager)
			}

			// Tide's clients in the cluster: the autoscaler trusts the REST
			// CA, sends the token, and reaches the JobManager by a name its
			// certificate has.
			if d := b.deployments[autoscalerDep]; d != nil {
				w := workload{"Deployment", autoscalerDep, &d.Spec.Template}
				c := container(t, w)
				conf := b.tideConfig(t, w, c)
				if !conf.RESTTLS.Enabled || conf.RESTTLS.CAFile == "" || conf.RESTTokenFile == "" {
					t.Errorf("%s: want https, the REST CA and the token (security.ssl.rest.enabled, ca-file, rest.auth.token-file)", w)
				}
				for _, key := range restClientKeys {
					file := conf.Get(key)
					if file == "" {
						continue
					}
					if k, err := secretFile(w.tmpl, c, file); err != nil {
						t.Errorf("%s: %s: %v", w, key, err)
					} else if k != path.Base(file) || !keys[k] {
						t.Errorf("%s: %s is %s, which is the Secret's %s", w, key, file, k)
					}
				}
				if err := verifyREST(files, conf.RESTAddress); err != nil {
					t.Errorf("%s calls the JobManager %s, which the REST certificate of README.md's `tide secrets create` does not name: %v", w, conf.RESTAddress, err)
				}
			}
			// Every Service that leads to a REST or metrics port.
			for _, name := range slices.Sorted(maps.Keys(b.services)) {
				svc := b.services[name]
				for _, ws := range b.selected(svc) {
					jm := ws.name == jobManagerJob
					if !jm && ws.name != taskManagerDep {
						continue
					}
					conf := b.tideConfig(t, ws, container(t, ws))
					tls := tlsPorts(t, conf, jm)
					for _, sp := range svc.Spec.Ports {
						key := "" // TestKubernetesReferences reports a port that leads nowhere
						if cp, ok := containerPort(ws.tmpl, targetPort(sp)); ok {
							key = tls[cp.ContainerPort]
						}
						if key != "rest.port" && key != "metrics.reporter.prom.port" {
							continue
						}
						if err := verifyREST(files, name); err != nil {
							t.Errorf("Service %s leads to %s's %s, whose certificate does not name it (add --host %s to README.md's `tide secrets create`): %v",
								name, ws, key, name, err)
						}
					}
				}
			}
		})
	}
}

// TestKubernetesPrometheusSecured: Prometheus scrapes the JobManager and
// the TaskManagers with one job, over HTTPS, trusting the REST CA and
// sending the REST token, both from the Secret it mounts, and checks the
// certificate against a name README.md's `tide secrets create --host`
// gives it; the autoscaler's port is one of them.
func TestKubernetesPrometheusSecured(t *testing.T) {
	rs := readReadmeSecrets(t)
	files, keys := createdSecrets(t, rs.hosts)
	b := load(t, "kubernetes/tide") // the variant with every scraped pod
	pd := b.deployments["prometheus"]
	if pd == nil {
		t.Fatal("no prometheus Deployment")
	}
	pw := workload{"Deployment", "prometheus", &pd.Spec.Template}
	pc := container(t, pw)
	for _, vol := range pw.tmpl.Spec.Volumes {
		if vol.Secret != nil {
			checkSecretVolume(t, pw, vol, keys)
		}
	}
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
	// A file of the configuration is relative to the configuration's.
	secretOf := func(job, field, file, want string) {
		t.Helper()
		if file == "" {
			t.Errorf("prometheus job %s: no %s", job, field)
			return
		}
		if !path.IsAbs(file) {
			file = path.Join(path.Dir(cfgFile), file)
		}
		k, err := secretFile(pw.tmpl, pc, file)
		if err != nil {
			t.Errorf("prometheus job %s: %s: %v", job, field, err)
		} else if k != want {
			t.Errorf("prometheus job %s: %s %s is the Secret's %s, want %s", job, field, file, k, want)
		}
	}

	tideJob, tm := b.jobs[jobManagerJob], b.deployments[taskManagerDep]
	as := b.deployments[autoscalerDep]
	if tideJob == nil || tm == nil || as == nil {
		t.Fatal("the tide variant lacks the JobManager, the TaskManagers or the autoscaler")
	}
	for _, x := range []struct {
		w       workload
		secured bool
	}{
		{workload{"Job", jobManagerJob, &tideJob.Spec.Template}, true},
		{workload{"Deployment", taskManagerDep, &tm.Spec.Template}, true},
		// tide autoscaler serves its /metrics as a metrics port of the
		// cluster: HTTPS with the REST certificate, the token.
		{workload{"Deployment", autoscalerDep, &as.Spec.Template}, true},
	} {
		if x.secured {
			conf := b.tideConfig(t, x.w, container(t, x.w))
			if !conf.RESTTLS.Enabled || conf.RESTTokenFile == "" {
				t.Errorf("%s: its metrics port is not HTTPS behind the token; this test expects it to be", x.w)
			}
		}
		var by []promScrapeConfig
		for _, sc := range pcfg.ScrapeConfigs {
			kept, err := sc.keeps(x.w.tmpl.Annotations, x.w.tmpl.Labels)
			if err != nil {
				t.Fatal(err)
			}
			if kept {
				by = append(by, sc)
			}
		}
		if len(by) != 1 {
			t.Errorf("%s is scraped by %d jobs, want 1", x.w, len(by))
			continue
		}
		sc := by[0]
		if !x.secured {
			if sc.Scheme == "https" || sc.Authorization != nil {
				t.Errorf("%s serves plain HTTP; prometheus job %s scrapes it with scheme %q and authorization %v, which would send the token in clear",
					x.w, sc.JobName, sc.Scheme, sc.Authorization != nil)
			}
			continue
		}
		if sc.Scheme != "https" {
			t.Errorf("prometheus job %s scrapes %s with scheme %q, want https", sc.JobName, x.w, sc.Scheme)
		}
		if sc.Authorization == nil || (sc.Authorization.Type != "" && sc.Authorization.Type != "Bearer") || sc.Authorization.Credentials != "" {
			t.Errorf("prometheus job %s: want authorization with credentials_file (the REST token), no inline credentials", sc.JobName)
		} else {
			secretOf(sc.JobName, "authorization.credentials_file", sc.Authorization.CredentialsFile, filepath.Base(files.RESTToken))
		}
		if sc.TLSConfig == nil {
			t.Errorf("prometheus job %s: no tls_config", sc.JobName)
			continue
		}
		tc := sc.TLSConfig
		secretOf(sc.JobName, "tls_config.ca_file", tc.CAFile, filepath.Base(files.RESTCA))
		if tc.CertFile != "" || tc.KeyFile != "" {
			secretOf(sc.JobName, "tls_config.cert_file", tc.CertFile, filepath.Base(files.RESTClientCert))
			secretOf(sc.JobName, "tls_config.key_file", tc.KeyFile, filepath.Base(files.RESTClientKey))
		}
		if tc.InsecureSkipVerify {
			t.Errorf("prometheus job %s skips verifying the certificate", sc.JobName)
		}
		// Pods are scraped by IP, which the certificate does not name.
		if !slices.Contains(rs.hosts, tc.ServerName) || net.ParseIP(tc.ServerName) != nil {
			t.Errorf("prometheus job %s: server_name %q is not a name of README.md's `tide secrets create --host` (%v)", sc.JobName, tc.ServerName, rs.hosts)
		}
		if err := verifyREST(files, tc.ServerName); err != nil {
			t.Errorf("prometheus job %s: the REST certificate of `tide secrets create --host %s` does not verify as %q: %v",
				sc.JobName, strings.Join(rs.hosts, " --host "), tc.ServerName, err)
		}
	}
}
