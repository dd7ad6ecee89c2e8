package gpio

import (
	"strings"
	"testing"
)

func TestOpenUnknown(t *testing.T) {
	for _, name := range []string{"GPIO9999", "NOPE"} {
		t.Run(name, func(t *testing.T) {
			p, err := Open(name)
			if err == nil {
				t.Fatalf("Open(%q) = %v, want an error", name, p)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("Open(%q) error %q does not name the pin", name, err)
			}
			t.Log(err)
		})
	}
}
