package pki

import (
	"encoding/json"
	"strings"
)

// setting is one configuration key and its value.
type setting struct{ key, value string }

// settings turn on everything f holds: mutual TLS and the token on the
// internal plane, HTTPS and the bearer token on the REST and metrics ports.
func (f *Files) settings() []setting {
	return []setting{
		{"security.ssl.internal.enabled", "true"},
		{"security.ssl.internal.cert-file", f.InternalCert},
		{"security.ssl.internal.key-file", f.InternalKey},
		{"security.ssl.internal.ca-file", f.InternalCA},
		{"security.internal.token-file", f.InternalToken},
		{"security.ssl.rest.enabled", "true"},
		{"security.ssl.rest.cert-file", f.RESTCert},
		{"security.ssl.rest.key-file", f.RESTKey},
		{"security.ssl.rest.ca-file", f.RESTCA},
		{"rest.auth.token-file", f.RESTToken},
	}
}

// optional are the settings that also demand client certificates on the
// REST and metrics ports, with the one tide's own clients present.
func (f *Files) optional() []setting {
	return []setting{
		{"security.ssl.rest.authentication-enabled", "true"},
		{"security.ssl.rest.client-cert-file", f.RESTClientCert},
		{"security.ssl.rest.client-key-file", f.RESTClientKey},
	}
}

// Config returns the configuration that turns on what f holds, twice: as
// -D flags, one a line, continued with backslashes for a shell, and as a
// block of $TIDE_HOME/conf/config.yaml. Client certificates on the REST
// ports are optional, so both show them as comments.
func (f *Files) Config() string {
	var b strings.Builder
	b.WriteString("# -D flags of every JobManager and TaskManager (tide standalone-job start, tide taskmanager start);\n")
	b.WriteString("# tide's REST clients (tide autoscaler, tide run, tide chaos) take the same:\n")
	s := f.settings()
	for i, kv := range s {
		b.WriteString(shellQuote("-D" + kv.key + "=" + kv.value))
		if i < len(s)-1 {
			b.WriteString(" \\")
		}
		b.WriteString("\n")
	}
	b.WriteString("# Optional: the REST and metrics ports also demand a client certificate signed by the REST CA;\n")
	b.WriteString("# tide's own clients present the REST client certificate:\n")
	opt := f.optional()
	parts := make([]string, len(opt))
	for i, kv := range opt {
		parts[i] = shellQuote("-D" + kv.key + "=" + kv.value)
	}
	b.WriteString("#   " + strings.Join(parts, " ") + "\n")

	b.WriteString("\n# Or the same in $TIDE_HOME/conf/config.yaml:\n")
	for _, kv := range s {
		b.WriteString(kv.key + ": " + yamlQuote(kv.value) + "\n")
	}
	b.WriteString("# Optional: the REST and metrics ports also demand a client certificate signed by the REST CA;\n")
	b.WriteString("# tide's own clients present the REST client certificate:\n")
	for _, kv := range opt {
		b.WriteString("# " + kv.key + ": " + yamlQuote(kv.value) + "\n")
	}
	return b.String()
}

// plain reports whether s needs no quoting in a shell or in YAML: it holds
// only letters, digits and / . _ - + = : , @ and starts with none of the
// characters YAML gives a meaning to at the start of a scalar.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("/._-+=:,@", r):
		default:
			return false
		}
	}
	return !strings.ContainsRune("-:,@", rune(s[0])) && !strings.Contains(s, ": ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if plain(strings.TrimPrefix(s, "-")) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// yamlQuote quotes s as a YAML scalar when it needs it (the values are
// true and absolute paths): a JSON string is a YAML double-quoted scalar.
func yamlQuote(s string) string {
	if plain(s) {
		return s
	}
	q, _ := json.Marshal(s)
	return string(q)
}

// Dynamic returns the settings that turn on everything f holds, as
// key=value pairs (what -D takes, without the -D).
func (f *Files) Dynamic() []string { return dynamic(f.settings()) }

// InternalDynamic returns the settings of the internal plane only: mutual
// TLS and the shared secret, with the REST and metrics ports left as they are.
func (f *Files) InternalDynamic() []string {
	var out []setting
	for _, s := range f.settings() {
		if strings.HasPrefix(s.key, "security.ssl.internal.") || s.key == "security.internal.token-file" {
			out = append(out, s)
		}
	}
	return dynamic(out)
}

func dynamic(ss []setting) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.key + "=" + s.value
	}
	return out
}
