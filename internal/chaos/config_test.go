package chaos

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnsureDefaults(t *testing.T) {
	var c Config
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	// count = rate × (events × interval + 10s) = 5000 × 50 s.
	if c.Events != 20 || c.Keys != 16 || c.Rate != 5000 || c.Count != 250000 || c.Interval != 2*time.Second ||
		c.MinTMs != 1 || c.MaxTMs != 4 || c.InitialTMs != 2 || !slices.Equal(c.Kinds, AllKinds) {
		t.Fatalf("defaults: %+v", c)
	}
	if c.FinishTimeout != 110*time.Second {
		t.Fatalf("finish timeout %v, want 60s + 50s", c.FinishTimeout)
	}
	small := Config{MinTMs: 3, MaxTMs: 3}
	small.EnsureDefaults()
	if small.InitialTMs != 3 {
		t.Fatalf("initial TaskManagers %d, want 3 (clamped to min-tms)", small.InitialTMs)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error, nil for none
	}{
		{"ok", func(*Config) {}, nil},
		{"bounds", func(c *Config) { c.MinTMs, c.MaxTMs = 3, 2 }, []string{"max-tms 2", "initial TaskManagers"}},
		{"kind", func(c *Config) { c.Kinds = []Kind{"explode"} }, []string{`unknown event kind "explode"`}},
		{"reserved", func(c *Config) { c.Dynamic = []string{"rest.port=8081"} }, []string{"chaos picks rest.port"}},
		{"bad -D", func(c *Config) { c.Dynamic = []string{"novalue"} }, []string{"-Dnovalue"}},
		{"several at once", func(c *Config) { c.Keys, c.Events = -1, -2 }, []string{"keys -1", "events -2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.EnsureDefaults()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestParseKinds(t *testing.T) {
	got, err := ParseKinds([]string{"start,stop", " kill ", "stop-cont"})
	if err != nil || !slices.Equal(got, AllKinds) {
		t.Fatalf("ParseKinds = %v, %v; want %v", got, err, AllKinds)
	}
	if _, err := ParseKinds([]string{"start,cont"}); err == nil {
		t.Fatal("ParseKinds accepted cont, which is not an event kind")
	}
	got, err = ParseKinds([]string{"start,stop,kill,stop-cont,jm-kill", "jm-stop"})
	if want := everyKind; err != nil || !slices.Equal(got, want) {
		t.Fatalf("ParseKinds = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseKinds([]string{"jm-restart"}); err == nil || !strings.Contains(err.Error(), "jm-kill or jm-stop") {
		t.Fatalf("ParseKinds(jm-restart): %v, want an error listing the kinds up to jm-kill or jm-stop", err)
	}
	for _, k := range JobManagerKinds {
		if slices.Contains(AllKinds, k) {
			t.Errorf("%s is among the default kinds", k)
		}
	}
	c := Config{Kinds: []Kind{KindJMKill}}
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate with kinds [jm-kill]: %v", err)
	}
}
