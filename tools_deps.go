//go:build tools

// This file pins the modules that packages under construction import, so that
// go.mod and go.sum stay complete while they are being written in parallel.
// TODO: delete it once every module here is imported by real code.
package tide

import (
	_ "github.com/cespare/xxhash/v2"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/gcerrors"
	_ "google.golang.org/grpc"
	_ "gopkg.in/yaml.v3"
)
