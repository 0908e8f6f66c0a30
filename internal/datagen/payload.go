package datagen

import (
	"fmt"
	"strconv"
)

// Payload makes the key and value of the i-th record (i from 0).
type Payload interface {
	// Record appends the key and value of record i to the given buffers and
	// returns them.
	Record(i int64, key, value []byte) ([]byte, []byte)
}

// Counter is the seed generator's payload: key and value are both the
// running counter i in decimal, from 0.
type Counter struct{}

// Record implements Payload.
func (Counter) Record(i int64, key, value []byte) ([]byte, []byte) {
	return strconv.AppendInt(key, i, 10), strconv.AppendInt(value, i, 10)
}

// Verify is the Verify job's input: value i in decimal, key i mod Keys in
// decimal, so that each key's records keep their order in one partition.
type Verify struct{ Keys int64 }

// Record implements Payload.
func (v Verify) Record(i int64, key, value []byte) ([]byte, []byte) {
	return strconv.AppendInt(key, i%v.Keys, 10), strconv.AppendInt(value, i, 10)
}

// NewPayload returns the payload called name: counter or verify (with keys keys).
func NewPayload(name string, keys int) (Payload, error) {
	switch name {
	case "counter":
		return Counter{}, nil
	case "verify":
		if keys <= 0 {
			return nil, fmt.Errorf("datagen: --payload verify needs --keys K > 0 (got %d)", keys)
		}
		return Verify{Keys: int64(keys)}, nil
	}
	return nil, fmt.Errorf("datagen: --payload %q: want counter or verify", name)
}
