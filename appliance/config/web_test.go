package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestWebSection(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string // Web.Listen
		init, run  []string // Addresses(true), Addresses(false)
	}{
		{"absent", "coap: {}\n", nil, []string{"[::]:80"}, []string{"127.0.0.1:8080"}},
		{"without value", "web:\n", nil, []string{"[::]:80"}, []string{"127.0.0.1:8080"}},
		{"empty mapping", "web: {}\n", nil, []string{"[::]:80"}, []string{"127.0.0.1:8080"}},
		{"listen without value", "web:\n  listen:\n", nil, []string{"[::]:80"}, []string{"127.0.0.1:8080"}},
		{"off", "web: {listen: []}\n", []string{}, []string{}, []string{}},
		{"addresses", `web: {listen: ["0.0.0.0:8080", "[::1]:8081"]}` + "\n",
			[]string{"0.0.0.0:8080", "[::1]:8081"}, []string{"0.0.0.0:8080", "[::1]:8081"}, []string{"0.0.0.0:8080", "[::1]:8081"}},
	} {
		c, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(c.Web.Listen, tt.want) {
			t.Errorf("%s: Web.Listen = %#v, want %#v", tt.name, c.Web.Listen, tt.want)
		}
		if got := c.Web.Addresses(true); !reflect.DeepEqual(got, tt.init) {
			t.Errorf("%s: Addresses(init) = %#v, want %#v", tt.name, got, tt.init)
		}
		if got := c.Web.Addresses(false); !reflect.DeepEqual(got, tt.run) {
			t.Errorf("%s: Addresses(run) = %#v, want %#v", tt.name, got, tt.run)
		}
	}
}

func TestWebSectionErrors(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"no port", "web:\n  listen: [\"0.0.0.0\"]\n",
			`pigw.yaml:2:12: web.listen[0]: "0.0.0.0": not host:port (write IPv6 addresses in brackets, such as [::1]:5683)`},
		{"a name", "web:\n  listen: [\"localhost:80\"]\n",
			`pigw.yaml:2:12: web.listen[0]: "localhost:80": host "localhost" is not an IPv4 or IPv6 address (names are not looked up)`},
		{"empty host", "web:\n  listen: [\":80\"]\n",
			`pigw.yaml:2:12: web.listen[0]: ":80": host is empty (use 0.0.0.0 or [::] to listen on all addresses)`},
		{"port zero", "web:\n  listen: [\"[::]:0\"]\n",
			`pigw.yaml:2:12: web.listen[0]: "[::]:0": port must be 1..65535`},
		{"port too big", "web:\n  listen: [\"[::]:65536\"]\n",
			`pigw.yaml:2:12: web.listen[0]: "[::]:65536": port must be 1..65535`},
		{"IPv4 in brackets", "web:\n  listen: [\"[127.0.0.1]:80\"]\n",
			`pigw.yaml:2:12: web.listen[0]: "[127.0.0.1]:80": IPv4 address in brackets (brackets are for IPv6 only)`},
		{"twice", "web:\n  listen: [\"[::]:80\", \"[0::0]:80\"]\n",
			`pigw.yaml:2:23: web.listen[1]: "[0::0]:80" is listed twice (first as listen[0])`},
		{"not a list", "web:\n  listen: \"[::]:80\"\n",
			`pigw.yaml:2:11: web.listen: expected a list, found "[::]:80"`},
		{"unknown key", "web:\n  port: 80\n",
			`pigw.yaml:2:3: web.port: unknown field (known: listen)`},
		{"not a mapping", "web: [\"[::]:80\"]\n",
			`pigw.yaml:1:6: web: expected a mapping, found a list`},
	} {
		_, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: Parse error:\n%v\nwant:\n%s", tt.name, err, tt.want)
		}
	}
}

// TestWebValidate: a Config built in Go gets the rules without file, line or column.
func TestWebValidate(t *testing.T) {
	c := Default()
	c.Web.Listen = []string{"127.0.0.1:8080", "nowhere"}
	want := `web.listen[1]: "nowhere": not host:port (write IPv6 addresses in brackets, such as [::1]:5683)`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

// TestDefaultYAMLWebExample checks that the commented-out web example in default.yaml is valid
// once its comment marks are taken away.
func TestDefaultYAMLWebExample(t *testing.T) {
	i := strings.Index(defaultYAML, "\n# web:")
	if i < 0 {
		t.Fatal("no commented-out web: example in default.yaml")
	}
	block, _, _ := strings.Cut(defaultYAML[i+1:], "\n\n")
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(block, "")
	c, err := Parse("default.yaml example", []byte(example))
	if err != nil {
		t.Fatalf("the web example of default.yaml:\n%s\ndoes not parse: %v", example, err)
	}
	if len(c.Web.Listen) == 0 {
		t.Errorf("the web example of default.yaml sets no address:\n%s", example)
	}
}
