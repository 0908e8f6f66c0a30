package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/pki"
)

// secretsDoc is where the certificates and tokens are documented.
const secretsDoc = "docs/security.md"

// secretsCmd is `tide secrets`, whose one subcommand makes the certificates
// and tokens of a secured cluster.
func (a *App) secretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Make the certificates and tokens a secured cluster authenticates with",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.secretsCreateCmd())
	return cmd
}

func (a *App) secretsCreateCmd() *cobra.Command {
	var o pki.Options
	var validity string
	cmd := &cobra.Command{
		Use:   "create --dir DIR [--host NAME …] [--validity 365d] [--renew | --force]",
		Short: "Write CAs, certificates and tokens to a directory and print the configuration that uses them",
		Long: "Writes to --dir (created with mode 0700 if missing) everything a cluster authenticates with, and prints " +
			"the -D flags and the config.yaml lines that turn it all on:\n" +
			"  internal-ca.pem, internal.pem, internal-key.pem: an internal CA and the one certificate every JobManager " +
			"and TaskManager presents (mutual TLS on the RPC and data-plane ports);\n" +
			"  rest-ca.pem, rest.pem, rest-key.pem: a REST CA and the certificate of the REST and metrics ports (HTTPS);\n" +
			"  rest-client.pem, rest-client-key.pem: a REST client certificate, for tide's own clients and Prometheus;\n" +
			"  internal.token, rest.token: the internal shared secret and the REST bearer token;\n" +
			"  private/internal-ca-key.pem, private/rest-ca-key.pem: the CAs' keys, which no process needs: keep them " +
			"off the cluster, they only serve --renew.\n" +
			"Two CAs, so that a REST client certificate can never join the cluster. The server certificates name " +
			"localhost, 127.0.0.1, ::1 and every --host (the names and addresses clients use). Keys and tokens get mode " +
			"0600, certificates 0644; each file is replaced atomically.\n" +
			"An existing file is never replaced, unless --renew (keep the CAs and tokens, issue new certificates from the " +
			"CAs: rotation without a restart, as processes read their certificates again when they change) or --force " +
			"(replace everything: every process needs the new files). Details are in " + secretsDoc + " in the Tide repository.",
		Example: "  tide secrets create --dir secrets --host tide-jobmanager --host 10.0.0.5\n" +
			"  tide secrets create --dir secrets --renew --validity 90d",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if validity != "" {
				d, err := config.ParseDuration(validity)
				if err != nil {
					return fmt.Errorf("--validity: %w", err)
				}
				if d < time.Minute {
					return fmt.Errorf("--validity %s is %v: want at least a minute (a number without a unit is milliseconds; e.g. 365d)", validity, d)
				}
				o.Validity = d
			}
			f, err := pki.Create(o)
			if err != nil {
				return err
			}
			printSecrets(cmd.OutOrStdout(), f, o.Renew)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Dir, "dir", "", "directory of the files (required); created with mode 0700 if missing")
	fl.StringSliceVar(&o.Hosts, "host", nil, "a DNS name or IP address of the server certificates, besides localhost, 127.0.0.1 and ::1 (repeatable)")
	fl.StringVar(&validity, "validity", "365d", "how long the certificates are valid, e.g. 90d or 8760h (the CAs: 10 years)")
	fl.BoolVar(&o.Renew, "renew", false, "keep the CAs and tokens in --dir, issue new certificates from the CAs")
	fl.BoolVar(&o.Force, "force", false, "replace everything in --dir: new CAs, certificates and tokens")
	_ = cmd.MarkFlagRequired("dir")
	cmd.MarkFlagsMutuallyExclusive("renew", "force")
	return cmd
}

// printSecrets prints what Create wrote and kept, the configuration and
// how to make a Kubernetes Secret of it.
func printSecrets(w io.Writer, f *pki.Files, renewed bool) {
	files := []struct{ path, what string }{
		{f.InternalCA, "internal CA certificate"},
		{f.InternalCert, "certificate of every JobManager and TaskManager"},
		{f.InternalKey, "its key"},
		{f.InternalToken, "internal shared secret"},
		{f.RESTCA, "REST CA certificate"},
		{f.RESTCert, "certificate of the REST and metrics ports"},
		{f.RESTKey, "its key"},
		{f.RESTClientCert, "REST client certificate, for tide's clients and Prometheus"},
		{f.RESTClientKey, "its key"},
		{f.RESTToken, "REST bearer token"},
		{f.InternalCAKey, "internal CA key, only for --renew: keep it off the cluster"},
		{f.RESTCAKey, "REST CA key, only for --renew: keep it off the cluster"},
	}
	width := 0
	for _, e := range files {
		width = max(width, len(e.path))
	}
	for _, list := range []struct {
		title string
		paths []string
	}{{"Wrote:", f.Written}, {"Kept:", f.Kept}} {
		if len(list.paths) == 0 {
			continue
		}
		fmt.Fprintln(w, list.title)
		for _, e := range files {
			if slices.Contains(list.paths, e.path) {
				fmt.Fprintf(w, "  %-*s  %s\n", width, e.path, e.what)
			}
		}
	}
	fmt.Fprintf(w, "The certificates are valid until %s, the CAs until %s.\n\n",
		f.NotAfter.UTC().Format(time.DateOnly), f.CANotAfter.UTC().Format(time.DateOnly))
	fmt.Fprintln(w, f.Config())
	secret := "kubectl create secret generic tide-secrets --from-file=" + f.Dir
	if renewed {
		secret += " --dry-run=client -o yaml | kubectl apply -f -"
	}
	fmt.Fprintf(w, "Kubernetes: %s (takes only the files at the top of %s, not the CA keys in %s; mount the Secret and set the paths above to the mount's)\n",
		secret, f.Dir, filepath.Dir(f.InternalCAKey))
}
