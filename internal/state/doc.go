// Package state holds the keyed state of one operator in one subtask, stored
// and snapshotted per key group. This is the heap backend: every table is a
// slice of Go maps, one per owned key group.
//
// The package knows nothing about a "current key": the public stream package
// computes the key group of the record being processed and passes it to every
// call. A Backend and its tables belong to the subtask's goroutine and are not
// safe for concurrent use.
//
// # Driving a Backend
//
//  1. Create it with NewBackend for the key groups the subtask owns
//     (keygroup.RangeFor).
//  2. On restore, call RestoreKeyGroup once for every owned key group found in
//     the checkpoint, with the bytes and the CRC from the checkpoint's index.
//     Bytes may come from a snapshot taken at any other parallelism. This may
//     happen before or after the operator registers its tables: bytes of a
//     table not registered yet stay pending until NewTable decodes them.
//  3. Register each table with NewTable (names are unique per backend), then
//     use Get, Put, Delete and Range with the key group of each key.
//  4. On a checkpoint barrier, call Snapshot with the writer of the subtask's
//     state object, and store the returned offsets and CRCs in the
//     checkpoint's index. Snapshot is synchronous: the heap tables are
//     mutable, so it must finish before the next record is processed.
//  5. On local recovery across a rescale, call SetRange with the new range:
//     key groups that stay are kept in memory, the others are dropped, and the
//     new ones are loaded with RestoreKeyGroup.
//
// Passing a key group outside the owned range to a table operation breaks the
// routing invariant (records are sent to the subtask that owns their key
// group) and panics.
//
// # Snapshot format
//
// A snapshot is the concatenation of the encodings of every owned key group,
// in key-group order. The index (offsets and CRC-32C per key group) is kept by
// the caller, not in the stream. One key group is encoded as
//
//	keyGroup := uvarint(tableCount) table*
//	table    := uvarint(len(name)) name uvarint(entryCount) entry*
//	entry    := uvarint(len(key)) key uvarint(len(value)) value
//
// where key and value are the bytes written by the table's key and value
// codecs. Tables appear sorted by name, each at most once, and only if they
// have entries in the key group; an empty key group is the single byte 0
// (zero tables). The order of the entries within a table is unspecified, and
// a key appears at most once. The length prefixes let a reader skip a table it
// does not know without its codecs, which is how restored bytes of a table
// that is not registered yet stay pending, and are written back unchanged by
// the next Snapshot.
//
// There is no version field: the checkpoint metadata that names the snapshot
// object carries the format version.
package state
