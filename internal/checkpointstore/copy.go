package checkpointstore

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
)

// Copy copies a checkpoint from one storage to another, under the same keys
// with prefix in front: every state object its metadata md names, then the
// metadata itself (naming the objects' new keys), last, the way a
// checkpoint is written, so that a copy cut short is a torn checkpoint,
// never one that verifies with state missing. mdKey is the metadata's key
// in from. Copy is idempotent. It is how a savepoint reaches a target
// directory outside state.checkpoints.dir, and how one from outside is
// brought in to be restored. It returns the metadata's key in to.
func Copy(ctx context.Context, from, to blob.Storage, md *checkpoint.Metadata, mdKey, prefix string) (string, error) {
	out := *md
	out.Operators = make([]checkpoint.OperatorState, len(md.Operators))
	for i, op := range md.Operators {
		op.Keyed = slices.Clone(op.Keyed)
		for j, h := range op.Keyed {
			b, err := from.Read(ctx, h.Path)
			if err != nil {
				return "", fmt.Errorf("copy checkpoint %d: %w", md.CheckpointID, err)
			}
			op.Keyed[j].Path = prefix + h.Path
			if err := to.Write(ctx, op.Keyed[j].Path, b); err != nil {
				return "", fmt.Errorf("copy checkpoint %d: %w", md.CheckpointID, err)
			}
		}
		out.Operators[i] = op
	}
	b, err := checkpoint.Encode(&out)
	if err != nil {
		return "", fmt.Errorf("copy checkpoint %d: %w", md.CheckpointID, err)
	}
	if !strings.HasSuffix(mdKey, "/"+MetadataName) {
		mdKey = strings.TrimSuffix(mdKey, "/") + "/" + MetadataName
	}
	if err := to.Write(ctx, prefix+mdKey, b); err != nil {
		return "", fmt.Errorf("copy checkpoint %d: %w", md.CheckpointID, err)
	}
	return prefix + mdKey, nil
}

// ImportPrefix is where savepoints from outside state.checkpoints.dir are
// copied to be restored: apart from the jobs' own directories, so that an
// import never writes into a job's checkpoints.
const ImportPrefix = "_imported/"

// SplitLocation splits the location of a checkpoint or savepoint, as the
// REST API reports it ("<root>/<job-id>/chk-<n>", with or without a final
// "/_metadata"), into the URL of the storage root it was written under and
// its key there ("<job-id>/chk-<n>"). A plain absolute path is a file URL.
func SplitLocation(location string) (root, key string, err error) {
	loc := location
	if strings.HasPrefix(loc, "/") {
		loc = "file://" + loc
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" {
		return "", "", fmt.Errorf("location %q is not a URL (file:///…, s3://…) nor an absolute path", location)
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/"+MetadataName)
	i := strings.LastIndex(p, "/")
	j := -1
	if i > 0 {
		j = strings.LastIndex(p[:i], "/")
	}
	if i < 0 || j < 0 || !strings.HasPrefix(p[i+1:], chkPrefix) || j+1 == i || p[j+1:i] == "." || p[j+1:i] == ".." {
		return "", "", fmt.Errorf("location %q does not end in <job-id>/%s<n>", location, chkPrefix)
	}
	key = p[j+1:]
	u.Path = p[:j]
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), key, nil
}

// TargetURL checks a savepoint target directory and returns it as a URL: a
// URL with a scheme, or an absolute path, which is a file URL. Trailing
// slashes go, but not the ones of a root: "/" is "file:///", never
// "file://" (which fileblob reads as the process's working directory).
func TargetURL(dir string) (string, error) {
	in := dir
	if strings.HasPrefix(dir, "/") {
		dir = "file://" + dir
	}
	u, err := url.Parse(dir)
	if err != nil || u.Scheme == "" || !strings.Contains(dir, "://") {
		return "", fmt.Errorf("target directory %q is neither a URL (file:///…, s3://…) nor an absolute path", in)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// Query options configure the storage driver (file modes, keys it
		// reads): not a REST client's to choose.
		return "", fmt.Errorf("target directory %q carries URL options (?… or #…): give a plain URL or path", in)
	}
	for strings.HasSuffix(dir, "/") && !strings.HasSuffix(dir, "://") && !strings.HasSuffix(dir, ":///") {
		dir = dir[:len(dir)-1]
	}
	return dir, nil
}
