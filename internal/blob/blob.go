package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"

	gcblob "gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/memblob"  // mem:// URLs
	"gocloud.dev/gcerrors"
)

// ErrNotFound is matched (errors.Is) by the error a Storage returns when a
// key does not exist.
var ErrNotFound = errors.New("blob: not found")

// ErrExists is wrapped by WriteNew when the key already holds an object.
var ErrExists = errors.New("blob: already exists")

// Storage is durable storage of immutable objects addressed by
// slash-separated keys. Implementations are safe for concurrent use.
type Storage interface {
	// Write stores data under key, replacing any object there. It is atomic
	// as far as the driver allows (see the package doc).
	Write(ctx context.Context, key string, data []byte) error
	// WriteNew is Write, but fails with an error wrapping ErrExists when an
	// object is already stored under key. Object stores check atomically;
	// file:// checks just before its final rename.
	WriteNew(ctx context.Context, key string, data []byte) error
	// Read returns the whole object stored under key.
	Read(ctx context.Context, key string) ([]byte, error)
	// ReadRange returns length bytes of the object under key, starting at
	// offset; a negative length reads to the end. Fewer bytes than asked for
	// (the object is shorter) is an error wrapping io.ErrUnexpectedEOF.
	ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error)
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object under key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Close releases the storage. Calls after Close fail.
	Close() error
}

// Open opens the storage at a gocloud.dev/blob URL such as
// "file:///var/tide/checkpoints" or "mem://".
//
// For file:// URLs Open sets these fileblob options unless the URL already
// sets them: create_dir (the directory is created if missing), metadata=skip
// (no ".attrs" side files) and no_tmp_dir (temporary files are created next
// to their final name, so the final rename never crosses file systems, as it
// would with a TMPDIR on another mount). List hides those temporary files.
func Open(ctx context.Context, rawURL string) (Storage, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", rawURL, err)
	}
	name := displayURL(u)
	isFile := u.Scheme == "file"
	if isFile {
		q := u.Query()
		for k, v := range map[string]string{"create_dir": "true", "metadata": "skip", "no_tmp_dir": "true"} {
			if !q.Has(k) {
				q.Set(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	b, err := gcblob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", name, err)
	}
	s := &bucket{b: b, url: name, hideTemp: isFile}
	if isFile {
		if s.root, err = fileRoot(u); err != nil {
			_ = b.Close()
			return nil, fmt.Errorf("blob: open %s: %w", name, err)
		}
	}
	return s, nil
}

// displayURL is u without user info and query, for error messages and logs.
func displayURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	return c.String()
}

// fileblobTemp matches the temporary names fileblob gives objects being
// written when no_tmp_dir is set: "<key>.<unix nanos in hex>.tmp".
var fileblobTemp = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// bucket is a Storage over a gocloud bucket.
type bucket struct {
	b        *gcblob.Bucket
	url      string // without credentials or query, for messages
	hideTemp bool   // List hides fileblob's in-flight temporary files
	// root is the absolute directory of a file:// bucket; "" for object
	// stores, which have no directories.
	root string
}

func (s *bucket) wrap(op, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("blob: %s %q in %s: %w", op, key, s.url, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %q in %s: %w", op, key, s.url, err)
}

func (s *bucket) Write(ctx context.Context, key string, data []byte) error {
	if err := s.b.WriteAll(ctx, key, data, nil); err != nil {
		return s.wrap("write", key, err)
	}
	return nil
}

func (s *bucket) WriteNew(ctx context.Context, key string, data []byte) error {
	if err := s.b.WriteAll(ctx, key, data, &gcblob.WriterOptions{IfNotExist: true}); err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return fmt.Errorf("blob: write %q in %s: %w", key, s.url, ErrExists)
		}
		return s.wrap("write", key, err)
	}
	return nil
}

func (s *bucket) Read(ctx context.Context, key string) ([]byte, error) {
	data, err := s.b.ReadAll(ctx, key)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return data, nil
}

func (s *bucket) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if offset < 0 {
		return nil, fmt.Errorf("blob: read %q in %s: negative offset %d", key, s.url, offset)
	}
	r, err := s.b.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, s.wrap("read range of", key, err)
	}
	defer r.Close()
	var data []byte
	if length >= 0 {
		// The length comes from checkpoint metadata, which may be damaged
		// or forged: never allocate for bytes the object does not have.
		if size := r.Size(); size >= 0 && (offset > size || length > size-offset) {
			return nil, fmt.Errorf("blob: read %q in %s: bytes [%d, %d) of an object of %d bytes: %w",
				key, s.url, offset, uint64(offset)+uint64(length), size, io.ErrUnexpectedEOF)
		}
		data = make([]byte, length)
		if _, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("blob: read %q in %s: bytes [%d, %d): %w", key, s.url, offset, offset+length, err)
		}
		return data, nil
	}
	data, err = io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("blob: read %q in %s from byte %d: %w", key, s.url, offset, err)
	}
	return data, nil
}

func (s *bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := s.b.List(&gcblob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, s.wrap("list prefix", prefix, err)
		}
		if obj.IsDir || (s.hideTemp && fileblobTemp.MatchString(obj.Key)) {
			continue
		}
		keys = append(keys, obj.Key)
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *bucket) Delete(ctx context.Context, key string) error {
	if err := s.b.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return s.wrap("delete", key, err)
	}
	return nil
}

func (s *bucket) Close() error {
	if err := s.b.Close(); err != nil {
		return fmt.Errorf("blob: close %s: %w", s.url, err)
	}
	return nil
}
