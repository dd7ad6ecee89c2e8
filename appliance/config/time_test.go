package config

import (
	"strings"
	"testing"
	"time"
)

func TestTimeSection(t *testing.T) {
	c, err := Parse("pigw.yaml", []byte("time:\n  ntp: [pool.ntp.org, 192.168.1.1, \"[fd00::1]:123\", \"ntp.example:1123\"]\n  interval: 30m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Time.NTP) != 4 || time.Duration(c.Time.Interval) != 30*time.Minute {
		t.Errorf("%+v", c.Time)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"time:\n  ntp: [\"bad host\"]\n", `pigw.yaml:2:9: time.ntp[0]: "bad host": "bad host" is not a valid host name`},
		{"time:\n  ntp: [\"h:0\"]\n", `pigw.yaml:2:9: time.ntp[0]: "h:0": port "0" must be 1..65535`},
		{"time:\n  interval: 10s\n", `pigw.yaml:2:13: time.interval: 10s: must be 1m..24h`},
		{"time:\n  ntp: [a, b, c, d, e, f, g, h, i]\n", `pigw.yaml:2:8: time.ntp: 9 servers, more than 8`},
	} {
		_, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
}
