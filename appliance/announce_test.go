package appliance

import (
	"fmt"
	"testing"

	"github.com/pigw/pigw/appliance/config"
)

func TestMDNSConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		yaml    string
		version string
		http    int
		want    string // "instance: type/port ...; txt"
	}{
		{"defaults", "", "1.4", 0, "pigw: _coap._udp/5683; [version=1.4 board=Pi]"},
		{"page", "system: {hostname: pigw-kitchen}\n", "1.4", 80, "pigw-kitchen: _coap._udp/5683 _http._tcp/80; [version=1.4 board=Pi]"},
		{"DTLS", "coap: {dtls: {psk: k}}\n", "", 0, "pigw: _coap._udp/5683 _coaps._udp/5684; [version=unknown board=Pi]"},
		{"other port", `coap: {listen: ["127.0.0.1:5683", "0.0.0.0:5685"]}` + "\n", "1", 0, "pigw (port 5685): _coap._udp/5685; [version=1 board=Pi]"},
		{"loopback only", `coap: {listen: ["127.0.0.1:5683", "[::1]:5683"], dtls: {psk: k, listen: ["[::1]:5684"]}}` + "\n", "1", 8080,
			"pigw: _http._tcp/8080; [version=1 board=Pi]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("pigw.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			c := mdnsConfig(cfg, tt.version, "Pi", tt.http)
			got := c.Instance + ":"
			for _, s := range c.Services {
				got += fmt.Sprintf(" %s/%d", s.Type, s.Port)
			}
			got += fmt.Sprintf("; %v", c.TXT)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
