package kafka

import (
	"encoding/json"
	"strconv"
)

// The deserializers below read a record's value and ignore its key, for
// Config.Deserialize. A job that needs the key too writes its own
// func(key, value []byte) (T, error), or a DeserializeRecord that sees the
// whole record (topic, partition, offset, timestamp, headers, key).
//
// A record with no value (a tombstone of a compacted topic) is an empty
// value to them: String gives "", Bytes nil, Int64 and JSON an error.

// String reads the value as a string.
func String(_, value []byte) (string, error) { return string(value), nil }

// Bytes reads the value as it is, without a copy. The bytes are the
// record's own (the client does not reuse them): they may be kept, and
// appending to them copies.
func Bytes(_, value []byte) ([]byte, error) { return value[:len(value):len(value)], nil }

// Int64 reads the value as a decimal integer, such as "-42" (what tide
// datagen's payloads and Verify's input are).
func Int64(_, value []byte) (int64, error) { return strconv.ParseInt(string(value), 10, 64) }

// JSON returns a deserializer that reads the value as JSON into a T, with
// encoding/json.
func JSON[T any]() func(key, value []byte) (T, error) {
	return func(_, value []byte) (T, error) {
		var v T
		err := json.Unmarshal(value, &v)
		return v, err
	}
}
