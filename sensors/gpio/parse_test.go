package gpio

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		level   bool
		toggle  bool
		wantErr bool
	}{
		{in: "1", level: true},
		{in: "0"},
		{in: "on", level: true},
		{in: "OFF"},
		{in: " True\n", level: true},
		{in: "false"},
		{in: "\tToggle ", toggle: true},
		{in: "", wantErr: true},
		{in: "2", wantErr: true},
		{in: "yes", wantErr: true},
		{in: "o n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			level, toggle, err := Parse(tt.in)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(tt.in)) || !strings.Contains(err.Error(), "toggle") {
					t.Fatalf("Parse(%q) error = %v, want one naming the value and the rule", tt.in, err)
				}
				return
			}
			if err != nil || level != tt.level || toggle != tt.toggle {
				t.Fatalf("Parse(%q) = %v, %v, %v; want %v, %v", tt.in, level, toggle, err, tt.level, tt.toggle)
			}
		})
	}
}
