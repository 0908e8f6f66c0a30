package network

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testID = ChannelID{Attempt: 7, Edge: 3, Producer: 1, Consumer: 2}

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		f    frame
		len  int
	}{
		{"open", frame{typ: frameOpen, id: testID}, headerLen},
		{"close", frame{typ: frameClose, id: testID}, headerLen},
		{"credit", frame{typ: frameCredit, id: testID, credits: 4}, headerLen + 4},
		{"reject", frame{typ: frameReject, kind: rejectFenced, id: testID}, headerLen},
		{"data", frame{typ: frameData, kind: 9, id: testID, payload: []byte("hello")}, headerLen + 5},
		{"empty data", frame{typ: frameData, kind: 1, id: testID}, headerLen},
		{"hello", frame{typ: frameHello, payload: []byte("127.0.0.1:6121")}, headerLen + 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendFrame(nil, tt.f)
			if len(b) != tt.len {
				t.Fatalf("encoded length = %d, want %d", len(b), tt.len)
			}
			got, n, err := decodeFrame(append(b, 0xff)) // trailing byte is not consumed
			if err != nil {
				t.Fatalf("decodeFrame: %v", err)
			}
			if n != len(b) {
				t.Fatalf("decodeFrame used %d bytes, want %d", n, len(b))
			}
			if diff := cmp.Diff(tt.f, got, cmp.AllowUnexported(frame{}), cmp.Comparer(bytes.Equal)); diff != "" {
				t.Fatalf("decodeFrame mismatch (-want +got):\n%s", diff)
			}

			// writeFrame produces the same bytes, and readFrame reads them back.
			var buf bytes.Buffer
			w := bufio.NewWriter(&buf)
			var h [headerLen]byte
			if err := writeFrame(w, &h, &tt.f); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if !bytes.Equal(buf.Bytes(), b) {
				t.Fatalf("writeFrame = %x, appendFrame = %x", buf.Bytes(), b)
			}
			rf, err := readFrame(bufio.NewReader(&buf), &h)
			if err != nil {
				t.Fatalf("readFrame: %v", err)
			}
			if diff := cmp.Diff(tt.f, rf, cmp.AllowUnexported(frame{}), cmp.Comparer(bytes.Equal)); diff != "" {
				t.Fatalf("readFrame mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// header builds a raw header for the garbage cases.
func header(n uint32, typ frameType, kind byte) []byte {
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[:4], n)
	h[4] = byte(typ)
	h[5] = kind
	return h[:]
}

func TestDecodeFrameRejectsGarbage(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errShortFrame},
		{"short header", make([]byte, headerLen-1), errShortFrame},
		{"type zero", header(0, 0, 0), errBadFrame},
		{"unknown type", header(0, 99, 0), errBadFrame},
		{"absurd length", header(MaxPayload+1, frameData, 0), errBadFrame},
		{"max length", header(0xffffffff, frameData, 0), errBadFrame},
		{"open with payload", append(header(1, frameOpen, 0), 0), errBadFrame},
		{"open with kind", header(0, frameOpen, 1), errBadFrame},
		{"close with payload", append(header(1, frameClose, 0), 0), errBadFrame},
		{"credit of 3 bytes", append(header(3, frameCredit, 0), 0, 0, 1), errBadFrame},
		{"credit of 0", append(header(4, frameCredit, 0), 0, 0, 0, 0), errBadFrame},
		{"reject without reason", header(0, frameReject, 0), errBadFrame},
		{"reject unknown reason", header(0, frameReject, 200), errBadFrame},
		{"hello empty", header(0, frameHello, 0), errBadFrame},
		{"hello bad version", append(header(2, frameHello, 0), 9, 'a'), errBadFrame},
		{"hello too long", append(header(1+maxAddrLen+1, frameHello, 0), make([]byte, 1+maxAddrLen+1)...), errBadFrame},
		{"data truncated", append(header(10, frameData, 0), 1, 2, 3), errShortFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeFrame(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("decodeFrame error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadFrameTruncated(t *testing.T) {
	full := appendFrame(nil, frame{typ: frameData, kind: 1, id: testID, payload: []byte("payload")})
	var h [headerLen]byte
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(nil)), &h); err != io.EOF {
		t.Fatalf("readFrame at end of stream = %v, want io.EOF", err)
	}
	for n := 1; n < len(full); n++ {
		_, err := readFrame(bufio.NewReader(bytes.NewReader(full[:n])), &h)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("readFrame of %d/%d bytes = %v, want io.ErrUnexpectedEOF", n, len(full), err)
		}
	}
}

// TestReadFrameLargeLengthAllocatesLazily checks that a header announcing a
// huge payload followed by a short stream does not allocate the whole payload.
func TestReadFrameLargeLengthAllocatesLazily(t *testing.T) {
	b := append(header(MaxPayload, frameData, 0), make([]byte, 100)...)
	var h [headerLen]byte
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readFrame(bufio.NewReader(bytes.NewReader(b)), &h)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("readFrame = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*eagerAlloc {
		t.Fatalf("readFrame allocated %d bytes for a 100-byte payload", got)
	}
}

func TestReadPayloadGrows(t *testing.T) {
	want := make([]byte, 3*eagerAlloc+17)
	for i := range want {
		want[i] = byte(i * 7)
	}
	got, err := readPayload(bytes.NewReader(want), len(want))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("readPayload returned different bytes")
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range []frame{
		{typ: frameOpen, id: testID},
		{typ: frameCredit, id: testID, credits: 1},
		{typ: frameData, kind: 2, id: testID, payload: []byte("abc")},
		{typ: frameClose, id: testID},
		{typ: frameReject, kind: rejectDuplicate, id: testID},
		{typ: frameHello, payload: []byte("10.0.0.1:1")},
	} {
		f.Add(appendFrame(nil, fr))
	}
	f.Add(header(MaxPayload+1, frameData, 0))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := decodeFrame(b)
		var h [headerLen]byte
		rf, rerr := readFrame(bufio.NewReader(bytes.NewReader(b)), &h)
		if err != nil {
			if n != 0 {
				t.Fatalf("decodeFrame failed but used %d bytes", n)
			}
			if rerr == nil {
				t.Fatalf("readFrame accepted what decodeFrame rejected (%v)", err)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("readFrame failed (%v) where decodeFrame succeeded", rerr)
		}
		if n < headerLen || n > len(b) {
			t.Fatalf("decodeFrame used %d of %d bytes", n, len(b))
		}
		if re := appendFrame(nil, fr); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, b[:n])
		}
		if diff := cmp.Diff(fr, rf, cmp.AllowUnexported(frame{}), cmp.Comparer(bytes.Equal)); diff != "" {
			t.Fatalf("readFrame and decodeFrame disagree (-decode +read):\n%s", diff)
		}
	})
}
