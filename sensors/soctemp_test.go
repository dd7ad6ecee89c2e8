package sensors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSoC(t *testing.T) {
	zone := t.TempDir()
	write := func(name, s string) string {
		t.Helper()
		p := filepath.Join(zone, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("temp", "48312\n")
	other := write("other", "-2500\n")
	junk := write("junk", "n/a\n")

	for _, tc := range []struct {
		name    string
		p       Params
		want    float64
		openErr string // in Open's error
		readErr string // in Read's error
	}{
		{name: "zone directory", p: Params{Path: zone}, want: 48.312},
		{name: "temp file itself", p: Params{Path: other}, want: -2.5},
		{name: "not a number", p: Params{Path: junk}, readErr: `junk: "n/a" is not an integer`},
		{name: "missing zone", p: Params{Path: filepath.Join(zone, "thermal_zone9")}, openErr: "soc: thermal zone: stat " + filepath.Join(zone, "thermal_zone9")},
		{name: "options", p: Params{Path: zone, Options: map[string]string{"zone": "1"}}, openErr: `soc: unknown options ["zone"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Lookup("soc")
			if err != nil {
				t.Fatal(err)
			}
			s, err := d.Open(tc.p)
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("Open: %v, want an error saying %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rs, err := s.Read(context.Background())
			if tc.readErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.readErr) {
					t.Fatalf("Read: %v, want an error saying %q", err, tc.readErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []Reading{{Quantity{"temperature", "Cel"}, tc.want}}
			if len(rs) != 1 || rs[0] != want[0] {
				t.Errorf("Read() = %v, want %v", rs, want)
			}
		})
	}
}

func TestSoCDriver(t *testing.T) {
	d, err := Lookup("soc")
	if err != nil {
		t.Fatal(err)
	}
	if d.Bus != "sysfs" || d.Description == "" {
		t.Errorf("driver %+v", d)
	}
}
