package filesink

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStateRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		parts []Pending
	}{
		{"empty", nil},
		{"one", []Pending{{Name: "part-0-0-0", Checkpoint: 1}}},
		{"many", []Pending{
			{Name: "part-3-1-7", Checkpoint: 4},
			{Name: "part-3-1-8", Checkpoint: 5},
			{Name: "part-18446744073709551615-2147483647-18446744073709551615", Checkpoint: 1<<64 - 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeState(encodeState(tt.parts))
			if err != nil {
				t.Fatalf("DecodeState: %v", err)
			}
			if diff := cmp.Diff(tt.parts, got, cmpEmpty); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpEmpty treats nil and empty slices as equal.
var cmpEmpty = cmp.FilterValues(func(a, b []Pending) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestDecodeStateErrors(t *testing.T) {
	good := encodeState([]Pending{{Name: "part-1-2-3", Checkpoint: 9}})
	withBadName := func(name string) []byte {
		b := []byte{stateVersion, 1, 9, byte(len(name))}
		b = append(b, name...)
		return appendCRC(b)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"nil", nil, "at least 6"},
		{"short", good[:5], "at least 6"},
		{"flipped bit", flip(good, 3), "checksum"},
		{"truncated", appendCRC(good[:len(good)-6]), "name length"},
		{"version", appendCRC(append([]byte{2}, good[1:len(good)-4]...)), "version 2"},
		{"trailing", appendCRC(append(append([]byte(nil), good[:len(good)-4]...), 0)), "trailing"},
		{"huge count", appendCRC([]byte{stateVersion, 0xff, 0xff, 0xff, 0x0f}), "entries in"},
		{"path traversal", withBadName("../../etc/passwd"), "prefix"},
		{"slash", withBadName("part-1-2-3/x"), "part name"},
		{"leading zero", withBadName("part-01-2-3"), "not canonical"},
		{"too few fields", withBadName("part-1-2"), "part-<attempt>"},
		{"negative", withBadName("part-1--2-3"), "part-<attempt>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeState(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeState error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// appendCRC appends the checksum that encodeState would append to b.
func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(append([]byte(nil), b...), crc32.Checksum(b, castagnoli))
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return c
}

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(nil))
	f.Add(encodeState([]Pending{{Name: "part-0-0-0", Checkpoint: 1}, {Name: "part-7-3-12", Checkpoint: 2}}))
	f.Add([]byte{stateVersion, 1, 1, 3, 'a', 'b', 'c', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		// Most random inputs fail the checksum; also fuzz the body behind it.
		checkDecode(t, appendCRC(b))
	})
}

// checkDecode checks that whatever DecodeState accepts holds only valid
// names and survives a re-encoding unchanged.
func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	parts, err := DecodeState(b)
	if err != nil {
		return
	}
	for _, p := range parts {
		if _, err := parsePartName(p.Name); err != nil {
			t.Fatalf("decoded an invalid name: %v", err)
		}
	}
	again, err := DecodeState(encodeState(parts))
	if err != nil {
		t.Fatalf("re-decode: %v", err)
	}
	if diff := cmp.Diff(parts, again, cmpEmpty); diff != "" {
		t.Fatalf("re-encode changed the state (-first +second):\n%s", diff)
	}
}

func TestPartName(t *testing.T) {
	p := partName{attempt: 12, subtask: 3, seq: 0}
	if got, want := p.String(), "part-12-3-0"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	got, err := parsePartName("part-12-3-0")
	if err != nil || got != p {
		t.Fatalf("parsePartName = %+v, %v; want %+v", got, err, p)
	}
	for _, bad := range []string{"", "part-", "part-1-2-3-4", "part-a-2-3", "part-1-2-3\n", "part-1-+2-3", "Part-1-2-3", "part-1-2147483648-0"} {
		if _, err := parsePartName(bad); err == nil {
			t.Errorf("parsePartName(%q) succeeded, want an error", bad)
		}
	}
}
