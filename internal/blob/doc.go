// Package blob is Tide's only door to durable storage. Checkpoint state
// objects, checkpoint metadata and savepoints all go through a Storage, as
// pebble routes all file IO through vfs.FS.
//
// Open takes a gocloud.dev/blob URL. This package links in the file:// and
// mem:// drivers only; cloud drivers (s3://, gs://, azblob://) are made
// available by a blank import of the gocloud driver package elsewhere (the
// binary's main package), and Open then picks them up through
// blob.OpenBucket.
//
// The contract every Storage honours:
//
//  1. Write is atomic as far as the driver allows: a reader sees either the
//     old object, no object, or the whole new one. On file:// the data is
//     written to a temporary file next to the final one and renamed; object
//     stores (S3, GCS, Azure) replace objects atomically on upload.
//  2. A missing key is reported with an error for which errors.Is(err,
//     ErrNotFound) holds; Delete of a missing key succeeds.
//  3. List returns full keys, sorted, never directories, never the driver's
//     own side files.
//  4. Every error names the storage URL and the key it was about.
//
// On file:// storage a key's directories are created by the write and stay
// after its last object is deleted; RemoveEmptyDirs removes them under a
// prefix (a discarded checkpoint's directory) and does nothing on object
// stores, which have no directories.
//
// Components open storage through an Opener in their Config (nil: Open), so
// that a simulated cluster can hand every process one shared in-memory store
// (Share), as real processes share one bucket.
//
// Two wrappers help tests and benchmarks: NewFaultInjector makes chosen
// calls fail or return corrupted bytes, and NewLogging logs every call and
// counts the bytes read (the rescale benchmark reports them).
package blob
