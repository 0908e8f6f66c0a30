package rest

import (
	"errors"
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
		}
	})
}
