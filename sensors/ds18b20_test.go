package sensors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// w1Slave is a w1_slave file as w1_therm writes it.
func w1Slave(pad, verdict, t string) string {
	return fmt.Sprintf("%s : crc=57 %s\n%s t=%s\n", pad, verdict, pad, t)
}

const ds18b20Pad = "72 01 4b 46 7f ff 0e 10 57"

// ds18b20Dir makes a device directory holding the given files.
func ds18b20Dir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "28-0316a2794dff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDS18B20Read(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  float64
		err   string // in Read's error
	}{
		{"w1_slave", map[string]string{"w1_slave": w1Slave(ds18b20Pad, "YES", "23125")}, 23.125, ""},
		{"negative", map[string]string{"w1_slave": w1Slave("5e ff 4b 46 7f ff 02 10 2e", "YES", "-10125")}, -10.125, ""},
		{"w1_slave preferred", map[string]string{"w1_slave": w1Slave(ds18b20Pad, "YES", "23125"), "temperature": "99000\n"}, 23.125, ""},
		{"temperature file", map[string]string{"temperature": "21062\n"}, 21.062, ""},
		{"CRC mismatch", map[string]string{"w1_slave": w1Slave(ds18b20Pad, "NO", "23125")}, 0, "ds18b20 28-0316a2794dff: " + "%DIR%/w1_slave: CRC mismatch (crc=57 NO)"},
		{"all zeros", map[string]string{"w1_slave": "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n"}, 0, "scratchpad is all zeros"},
		{"power-on value", map[string]string{"w1_slave": w1Slave("50 05 4b 46 7f ff 0c 10 1c", "YES", "85000")}, 0, "85 °C is the power-on value"},
		{"power-on value, temperature file", map[string]string{"temperature": "85000\n"}, 0, "85 °C is the power-on value"},
		{"out of range", map[string]string{"temperature": "127937\n"}, 0, "127.937 °C is outside the sensor's range"},
		{"truncated", map[string]string{"w1_slave": "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"}, 0, "want two lines"},
		{"no t=", map[string]string{"w1_slave": ds18b20Pad + " : crc=57 YES\n" + ds18b20Pad + "\n"}, 0, "no t="},
		{"bad t=", map[string]string{"w1_slave": w1Slave(ds18b20Pad, "YES", "2x")}, 0, "t= is not an integer"},
		{"bad temperature", map[string]string{"temperature": "\n"}, 0, `"" is not an integer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ds18b20Dir(t, tc.files)
			s, err := openDS18B20(Params{Path: dir})
			if err != nil {
				t.Fatal(err)
			}
			rs, err := s.Read(context.Background())
			if tc.err != "" {
				want := strings.ReplaceAll(tc.err, "%DIR%", dir)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Read: %v, want an error saying %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Reading{Quantity{"temperature", "Cel"}, tc.want}
			if len(rs) != 1 || rs[0] != want {
				t.Errorf("Read() = %v, want [%v]", rs, want)
			}
		})
	}
}

func TestDS18B20Open(t *testing.T) {
	good := ds18b20Dir(t, map[string]string{"w1_slave": w1Slave(ds18b20Pad, "YES", "23125")})
	empty := ds18b20Dir(t, nil)
	for _, tc := range []struct {
		name string
		p    Params
		err  string // "": Open succeeds
	}{
		{"path", Params{Path: good}, ""},
		{"path and matching id", Params{Path: good, Options: map[string]string{"id": "28-0316a2794dff"}}, ""},
		{"id builds the path", Params{Options: map[string]string{"id": "28-00000a1b2c3d"}}, "ds18b20 28-00000a1b2c3d: not on the 1-Wire bus (is dtoverlay=w1-gpio set and the sensor wired?): stat /sys/bus/w1/devices/28-00000a1b2c3d"},
		{"missing directory", Params{Path: good + "x"}, "stat " + good + "x"},
		{"not w1_therm", Params{Path: empty}, "has neither w1_slave nor temperature"},
		{"nothing", Params{}, "ds18b20: no device: give a path or option id"},
		{"bad id", Params{Options: map[string]string{"id": "0316a2794dff"}}, `ds18b20: option id "0316a2794dff"`},
		{"wrong family", Params{Options: map[string]string{"id": "01-0316a2794dff"}}, `option id "01-0316a2794dff"`},
		{"upper case", Params{Options: map[string]string{"id": "28-0316A2794DFF"}}, `option id "28-0316A2794DFF"`},
		{"short serial", Params{Options: map[string]string{"id": "28-0316a2794df"}}, `option id "28-0316a2794df"`},
		{"DS18S20 builds the path", Params{Options: map[string]string{"id": "10-000802b4ad01"}}, "stat /sys/bus/w1/devices/10-000802b4ad01"},
		{"id contradicts path", Params{Path: good, Options: map[string]string{"id": "28-ffffffffffff"}}, `option id "28-ffffffffffff" contradicts path`},
		{"unknown option", Params{Path: good, Options: map[string]string{"resolution": "9"}}, `ds18b20: unknown options ["resolution"] (known: id)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openDS18B20(tc.p)
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Open: %v, want an error saying %q", err, tc.err)
			}
		})
	}
}

// A sensor unplugged after Open fails its Read with an error naming the file.
func TestDS18B20Gone(t *testing.T) {
	dir := ds18b20Dir(t, map[string]string{"w1_slave": w1Slave(ds18b20Pad, "YES", "23125")})
	s, err := openDS18B20(Params{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	_, err = s.Read(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ds18b20 28-0316a2794dff: open "+filepath.Join(dir, "w1_slave")) {
		t.Fatalf("Read: %v", err)
	}
}

func TestDS18B20Driver(t *testing.T) {
	d, err := Lookup("ds18b20")
	if err != nil {
		t.Fatal(err)
	}
	if d.Bus != "1-wire" || d.Description == "" || d.Open == nil {
		t.Errorf("driver %+v", d)
	}
}

func Example_ds18b20() {
	d, err := Lookup("ds18b20")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := d.Open(Params{Options: map[string]string{"id": "28-0316a2794dff"}})
	if err != nil {
		fmt.Println(err) // no 1-Wire bus here
		return
	}
	rs, err := s.Read(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.3f %s\n", rs[0].Name, rs[0].Value, rs[0].Unit)
}
