package kafka_test

import (
	"strings"
	"testing"

	"github.com/tide-stream/tide/kafka"
)

func TestDeserializers(t *testing.T) {
	if s, err := kafka.String([]byte("key"), []byte("héllo")); s != "héllo" || err != nil {
		t.Errorf("String = %q, %v", s, err)
	}
	buf := []byte("abcdef")
	b, err := kafka.Bytes(nil, buf[:3])
	if string(b) != "abc" || err != nil {
		t.Errorf("Bytes = %q, %v", b, err)
	}
	// Appending to a value never writes over the bytes after it (the next
	// record's, in a fetch buffer).
	_ = append(b, 'X')
	if string(buf) != "abcdef" {
		t.Errorf("appending to Bytes' value wrote past it: %q", buf)
	}
	if n, err := kafka.Int64(nil, []byte("-42")); n != -42 || err != nil {
		t.Errorf("Int64(-42) = %d, %v", n, err)
	}
	for _, bad := range []string{"", " 1", "1.5", "x"} {
		if _, err := kafka.Int64(nil, []byte(bad)); err == nil {
			t.Errorf("Int64(%q) accepted", bad)
		}
	}
	type car struct {
		ID    int     `json:"id"`
		Speed float64 `json:"speed"`
	}
	dec := kafka.JSON[car]()
	if c, err := dec([]byte("ignored"), []byte(`{"id":3,"speed":55.5}`)); c != (car{3, 55.5}) || err != nil {
		t.Errorf("JSON = %+v, %v", c, err)
	}
	if _, err := dec(nil, []byte(`{"id":`)); err == nil || !strings.Contains(err.Error(), "unexpected end") {
		t.Errorf("JSON of a truncated value = %v, want an error", err)
	}
	if _, err := dec(nil, nil); err == nil {
		t.Error("JSON of a tombstone (no value) accepted")
	}
}
