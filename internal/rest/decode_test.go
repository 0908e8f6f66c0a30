package rest

import (
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestValidJobID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{jobA, true},
		{jobB, true},
		{"", false},
		{jobA[:31], false},
		{jobA + "0", false},
		{"0123456789ABCDEF0123456789abcdef", false},
		{"0123456789abcdeg0123456789abcdef", false},
		{"0123456789abcdef0123456789abcde/", false},
	}
	for _, tt := range tests {
		if got := validJobID(tt.id); got != tt.want {
			t.Errorf("validJobID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// FuzzDecodeBodies checks that no body makes the decoders panic and that every
// rejection is a *BadRequestError.
func FuzzDecodeBodies(f *testing.F) {
	for _, seed := range []string{
		"", " ", "{}", "null", `{"target-directory":"x","cancel-job":true}`,
		`{"targetDirectory":"x","drain":false}`, `{"drain":1}`, `{} []`, `[`, "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dst := range []any{&savepointTriggerBody{}, &stopBody{}} {
			err := decodeJSON(data, dst)
			var bad *BadRequestError
			if err != nil && !errors.As(err, &bad) {
				t.Fatalf("decodeJSON(%q) = %v, want nil or *BadRequestError", data, err)
			}
			if err != nil {
				for _, leak := range []string{"Go struct field", "Go value", "of type", "Body.", "json: "} {
					if strings.Contains(bad.Msg, leak) && !strings.Contains(string(data), leak) {
						t.Fatalf("decodeJSON(%q): %q names the server's Go types (%q)", data, bad.Msg, leak)
					}
				}
			}
		}
	})
}

// TestJSONProblems: a body that does not decode is refused saying what is
// wrong in JSON terms, naming the field, and not the server's Go types.
func TestJSONProblems(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"cancel-job":"yes"}`, `malformed JSON body: field "cancel-job": want a boolean, got string`},
		{`{"target-directory":1}`, `malformed JSON body: field "target-directory": want a string, got number`},
		{`{"formatType":["a"]}`, `malformed JSON body: field "formatType": want a string, got array`},
		{`[]`, `malformed JSON body: want an object, got array`},
		{`{"nope":1}`, `malformed JSON body: unknown field "nope"`},
		{`{"cancel-job":tru}`, `malformed JSON body: invalid character '}' in literal true (expecting 'e') (at byte 18)`},
		{`{"cancel-job":`, `malformed JSON body: unexpected end of the JSON value`},
	} {
		err := decodeJSON([]byte(tt.body), &savepointTriggerBody{})
		var bad *BadRequestError
		if !errors.As(err, &bad) || bad.Msg != tt.want {
			t.Errorf("decodeJSON(%s) = %v, want a bad request saying %q", tt.body, err, tt.want)
		}
	}
}

// TestEncodeFailureSaysNoInternals: a response that does not encode is a
// 500 that names the request, not the encoder's error (Go types, values).
func TestEncodeFailureSaysNoInternals(t *testing.T) {
	s := NewServer(Config{}, newFakeBackend())
	rec := httptest.NewRecorder()
	s.writeJSON(rec, httptest.NewRequest("GET", "/jobs/overview", nil), http.StatusOK, map[string]any{"x": math.Inf(1), "c": make(chan int)})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if got, want := strings.TrimSpace(rec.Body.String()), `{"errors":["internal error encoding the response to GET /jobs/overview"]}`; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}
}
