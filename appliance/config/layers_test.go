package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/coap"
)

// layerFiles writes the files of a test of LoadLayers: etc and boot, where
// content is not "", and returns their paths and the directory.
func layerFiles(t *testing.T, etc, boot string) (etcPath, bootPath, dir string) {
	t.Helper()
	dir = t.TempDir()
	etcPath, bootPath = filepath.Join(dir, "etc-pigw.yaml"), filepath.Join(dir, "boot-pigw.yaml")
	for path, content := range map[string]string{etcPath: etc, bootPath: boot} {
		if content == "" {
			continue
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return etcPath, bootPath, dir
}

// checkLayers checks the layers LoadLayers returned: used says which were
// used, errs the start of the error of each, "" for none.
func checkLayers(t *testing.T, got []Layer, paths []string, used []bool, errs []string) {
	t.Helper()
	if len(got) != len(paths) {
		t.Fatalf("%d layers %+v, want %d", len(got), got, len(paths))
	}
	for i, l := range got {
		if l.Path != paths[i] || l.Used != used[i] {
			t.Errorf("layer %d = {Path: %q, Used: %t}, want {%q, %t}", i, l.Path, l.Used, paths[i], used[i])
		}
		switch {
		case errs[i] == "" && l.Err != nil:
			t.Errorf("layer %d (%s): Err %v, want nil", i, l.Path, l.Err)
		case errs[i] != "" && (l.Err == nil || !strings.HasPrefix(l.Err.Error(), errs[i])):
			t.Errorf("layer %d (%s): Err %v, want one starting with %s", i, l.Path, l.Err, errs[i])
		}
	}
}

func TestLoadLayersDefaultOnly(t *testing.T) {
	c, layers, err := LoadLayers()
	if err != nil {
		t.Fatalf("LoadLayers() = %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("LoadLayers() =\n%s\nwant Default()\n%s", redactedText(t, c), redactedText(t, Default()))
	}
	checkLayers(t, layers, []string{""}, []bool{true}, []string{""})

	// Missing files are skipped without an error.
	etc, boot, _ := layerFiles(t, "", "")
	c, layers, err = LoadLayers(etc, boot)
	if err != nil {
		t.Fatalf("LoadLayers(missing files) = %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("LoadLayers(missing files) =\n%s\nwant Default()", redactedText(t, c))
	}
	checkLayers(t, layers, []string{"", etc, boot}, []bool{true, false, false}, []string{"", "", ""})
}

func TestLoadLayers(t *testing.T) {
	const etcYAML = "# baked into the image\nsystem:\n  hostname: kitchen\n"
	const bootYAML = `# on the boot partition
coap:
  service_discovery: false
  listen:
  resources:
    - uri: sensors/temp
      value: "21.5"
      methods: [GET]
network:
  interfaces:
    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1}
`
	// want is the default, with the hostname of /etc and the rest of boot.
	want := Default()
	want.System.Hostname = "kitchen"
	want.CoAP.ServiceDiscovery = false
	want.CoAP.Resources = []Resource{{URI: "sensors/temp", Value: "21.5", Methods: []string{"GET"}}}
	want.Network.Interfaces = []Interface{{Name: "eth0", Up: ptr(true), DHCP: ptr(false), Addresses: []string{"192.168.1.10/24"}, Gateway: "192.168.1.1"}}

	t.Run("etc", func(t *testing.T) {
		etc, boot, _ := layerFiles(t, etcYAML, "")
		c, layers, err := LoadLayers(etc, boot)
		if err != nil {
			t.Fatalf("LoadLayers = %v", err)
		}
		w := Default()
		w.System.Hostname = "kitchen"
		if !reflect.DeepEqual(c, w) {
			t.Errorf("LoadLayers =\n%s\nwant\n%s", redactedText(t, c), redactedText(t, w))
		}
		checkLayers(t, layers, []string{"", etc, boot}, []bool{true, true, false}, []string{"", "", ""})
	})

	t.Run("etc and boot", func(t *testing.T) {
		etc, boot, _ := layerFiles(t, etcYAML, bootYAML)
		c, layers, err := LoadLayers(etc, boot)
		if err != nil {
			t.Fatalf("LoadLayers = %v", err)
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("LoadLayers =\n%s\nwant\n%s", redactedText(t, c), redactedText(t, want))
		}
		checkLayers(t, layers, []string{"", etc, boot}, []bool{true, true, true}, []string{"", "", ""})
	})

	t.Run("boot with a syntax error", func(t *testing.T) {
		etc, boot, _ := layerFiles(t, etcYAML, "coap:\n  resources:\n\t- uri: a\n")
		c, layers, err := LoadLayers(etc, boot)
		if err != nil {
			t.Fatalf("LoadLayers = %v", err)
		}
		w := Default()
		w.System.Hostname = "kitchen"
		if !reflect.DeepEqual(c, w) {
			t.Errorf("LoadLayers =\n%s\nwant the default with the hostname of %s", redactedText(t, c), etc)
		}
		checkLayers(t, layers, []string{"", etc, boot}, []bool{true, true, false}, []string{"", "", boot + ":3:1: YAML syntax: "})
		if want := boot + `:3:1: YAML syntax: found character '\t' that cannot start any token`; layers[2].Err.Error() != want {
			t.Errorf("boot's Err = %v, want %s", layers[2].Err, want)
		}
	})

	t.Run("invalid files", func(t *testing.T) {
		// Every error of a file left out is in its Err, and a file on its
		// own is checked against the defaults, not the layers below it.
		etc, boot, _ := layerFiles(t,
			"coap:\n  dtls: {keys: {alice: a}}\n",
			bootYAML+"system: {hostname: my_gw}\ncoap: {dtls: {admins: [alice]}}\n")
		c, layers, err := LoadLayers(etc, boot)
		if err != nil {
			t.Fatalf("LoadLayers = %v", err)
		}
		w := Default()
		w.CoAP.DTLS = defaultDTLS()
		w.CoAP.DTLS.Keys = []IdentityKey{{"alice", Secret("a")}}
		if !reflect.DeepEqual(c, w) {
			t.Errorf("LoadLayers =\n%s\nwant\n%s", redactedText(t, c), redactedText(t, w))
		}
		checkLayers(t, layers, []string{"", etc, boot}, []bool{true, true, false}, []string{"", "", boot + ":"})
		wantErr := boot + `:13:1: YAML syntax: mapping key "coap" already defined at [2:1]`
		if layers[2].Err.Error() != wantErr {
			t.Errorf("boot's Err:\n%v\nwant\n%s", layers[2].Err, wantErr)
		}

		os.WriteFile(boot, []byte("system: {hostname: my_gw}\ncoap:\n  dtls: {admins: [alice]}\n"), 0o644)
		_, layers, err = LoadLayers(etc, boot)
		if err != nil {
			t.Fatalf("LoadLayers = %v", err)
		}
		wantErr = boot + `:1:20: system.hostname: "my_gw" may only hold letters, digits and '-'
` + boot + `:3:9: coap.dtls: no key to let clients in with (give psk, keys or both)
` + boot + `:3:19: coap.dtls.admins[0]: "alice" is not an identity in coap.dtls.keys (an admin needs a key of its own)`
		if layers[2].Err == nil || layers[2].Err.Error() != wantErr {
			t.Errorf("boot's Err:\n%v\nwant\n%s", layers[2].Err, wantErr)
		}
		var e *Error
		if !errors.As(layers[2].Err, &e) || e.File != boot || e.Line != 1 {
			t.Errorf("errors.As(boot's Err, *Error) gives %+v, want the first, with file and line", e)
		}
	})

	t.Run("unreadable file", func(t *testing.T) {
		etc, boot, _ := layerFiles(t, "", bootYAML)
		if err := os.Mkdir(etc, 0o755); err != nil {
			t.Fatal(err)
		}
		c, layers, err := LoadLayers(etc, boot)
		if err != nil {
			t.Fatalf("LoadLayers = %v", err)
		}
		w := *want
		w.System = Default().System
		if !reflect.DeepEqual(c, &w) {
			t.Errorf("LoadLayers =\n%s\nwant\n%s", redactedText(t, c), redactedText(t, &w))
		}
		checkLayers(t, layers, []string{"", etc, boot}, []bool{true, false, true}, []string{"", "read " + etc + ": is a directory", ""})
	})
}

func TestLoadLayersMergedInvalid(t *testing.T) {
	// Each file is valid on its own; merged with the default, /etc allows
	// fewer resources than it has, and boot's DTLS endpoint takes the
	// address /etc gives plain CoAP.
	etc, boot, _ := layerFiles(t,
		"coap:\n  listen: [\"0.0.0.0:5684\"]\n  limits: {max_resources: 1}\n",
		"# boot\ncoap: {dtls: {psk: k}}\n")
	c, layers, err := LoadLayers(etc, boot)
	if c != nil {
		t.Errorf("LoadLayers returned a config with an error:\n%s", redactedText(t, c))
	}
	checkLayers(t, layers, []string{"", etc, boot}, []bool{true, true, true}, []string{"", "", ""})
	want := `merged configuration (built-in default.yaml < ` + etc + ` < ` + boot + `):
built-in default.yaml:19:5: coap.resources: 2 resources, more than limits.max_resources (1)
` + boot + `:2:14: coap.dtls.listen[0]: "0.0.0.0:5684": also in coap.listen[0] (` + etc + ` line 2); CoAP and DTLS need addresses of their own`
	if err == nil || err.Error() != want {
		t.Fatalf("LoadLayers error:\n%v\nwant\n%s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != builtinName || e.Line != 19 {
		t.Errorf("errors.As(err, *Error) gives %+v, want the first, in %s", e, builtinName)
	}
}

func TestLoadLayersMerge(t *testing.T) {
	// /etc has unquoted hex keys, which must stay keys and not become
	// numbers; boot replaces alice's key and adds carol, keeping the
	// order, adds max_age to new_resource_details, and has resources with
	// a quoted "0" and attributes in an order of their own. A key without
	// a value (listen:) leaves the lower layers' value.
	etc, boot, _ := layerFiles(t, `coap:
  dtls:
    psk: 0x0102ab
    keys:
      alice: alicekey
      bob: 0x0a0b
    hint: etc
  limits: {max_value_size: 100}
`, `coap:
  listen:
  dtls:
    keys: {carol: 0x0c, alice: "0x01"}
    admins: [carol]
  new_resource_details: {max_age: 5}
  resources:
    - uri: r
      value: "0"
      attributes: {z: last, ct: "0", sz: 0x10, a: 1.50}
`)
	c, _, err := LoadLayers(etc, boot)
	if err != nil {
		t.Fatalf("LoadLayers = %v", err)
	}
	d := c.CoAP.DTLS
	if d == nil {
		t.Fatal("no dtls section")
	}
	wantDTLS := fmt.Sprintf("listen %q, dtls listen %q psk 0102ab hint \"etc\" admins [\"carol\"] keys \"alice\"=01 \"bob\"=0a0b \"carol\"=0c",
		Default().CoAP.Listen, []string{"0.0.0.0:5684", "[::]:5684"})
	if got := dtlsText(c.CoAP); got != wantDTLS {
		t.Errorf("merged dtls:\n%s\nwant\n%s", got, wantDTLS)
	}
	wantDetails := &Details{MediaType: ptr(MediaType(coap.TextPlain)), MaxAge: ptr(uint32(5)), ETag: true}
	if !reflect.DeepEqual(c.CoAP.NewResourceDetails, wantDetails) {
		t.Errorf("merged new_resource_details = %+v, want %+v", *c.CoAP.NewResourceDetails, *wantDetails)
	}
	if c.CoAP.Limits.MaxValueSize != 100 || c.CoAP.Limits.MaxResources != 512 {
		t.Errorf("merged limits = %+v, want max_value_size 100 and the other defaults", c.CoAP.Limits)
	}
	wantRes := []Resource{{URI: "r", Value: "0", Attributes: Attributes{{"z", "last"}, {"ct", "0"}, {"sz", "0x10"}, {"a", "1.50"}}}}
	if !reflect.DeepEqual(c.CoAP.Resources, wantRes) {
		t.Errorf("merged resources = %+v, want %+v", c.CoAP.Resources, wantRes)
	}
}

// TestLoadLayersModules: a higher layer's modules add to the lower layers' (the image's
// brcmfmac stays when the boot partition's file loads i2c-dev), and its entry for a module
// already listed replaces that entry in its place. A layer with the same entry twice is
// invalid and left out, so its list adds nothing.
func TestLoadLayersModules(t *testing.T) {
	for _, tc := range []struct {
		name, etc, boot string
		want            []string
	}{
		{"added", "system: {modules: [brcmfmac, virtio_net]}\n", "system:\n  modules: [i2c-dev]\n", []string{"brcmfmac", "virtio_net", "i2c-dev"}},
		{"parameters replaced", "system: {modules: [a, \"i2c_stub chip_addr=0x48\", b]}\n", "system:\n  modules: [c, \"i2c-stub chip_addr=0x76\"]\n",
			[]string{"a", "i2c-stub chip_addr=0x76", "b", "c"}},
		{"none above", "system: {modules: [a]}\n", "system: {hostname: x}\n", []string{"a"}},
		{"empty above", "system: {modules: [a]}\n", "system: {modules: []}\n", []string{"a"}},
		{"none below", "system: {hostname: x}\n", "system: {modules: [b]}\n", []string{"b"}},
		{"invalid above", "system: {modules: [a]}\n", "system: {modules: [b, b]}\n", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etc, boot, _ := layerFiles(t, tc.etc, tc.boot)
			c, _, err := LoadLayers(etc, boot)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.System.Modules, tc.want) {
				t.Errorf("modules %q, want %q", c.System.Modules, tc.want)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	const key = "s3cr3t-text-key"
	c, err := Parse("pigw.yaml", []byte(tutorial+`  discovery_leisure: 1500ms
  observe: {min_interval: 1m}
  dtls:
    psk: `+key+`
    keys: {alice: "0x5ec7e7", "42": `+key+`}
    admins: [alice]
sessions:
  - name: s
    peer: coaps://[::1]
    identity: pigw
    psk: `+key+`
    requests:
      - {method: ipatch, path: "a?b=1", content_format: 11542, accept: application/json, payload: "two\nlines\n", token: "0x01", every: 1m30s}
system:
  modules: [brcmfmac]
network:
  interfaces:
    - name: eth0
      addresses: ["192.168.1.10/24", "fd00::10/64"]
      gateway: 192.168.1.1
      routes: [{to: 10.0.0.0/8, via: 192.168.1.254, metric: 5}]
      mtu: 1500
  dns: ["1.1.1.1"]
lwm2m:
  server: coaps://leshan.example.org
  identity: pigw
  psk: `+key+`
  lifetime: 90s
  objects: [device, server]
rd:
  server: coaps://rd.example.org
  identity: pigw
  psk: "0x5ec7e7"
  endpoint: kitchen
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Redacted()
	if err != nil {
		t.Fatalf("Redacted: %v", err)
	}
	for _, leak := range []string{key, "5ec7e7", "5EC7E7", fmt.Sprintf("%x", key)} {
		if strings.Contains(string(b), leak) {
			t.Errorf("Redacted shows the key as %q:\n%s", leak, b)
		}
	}
	if n := strings.Count(string(b), `"***"`); n != 6 {
		t.Errorf("Redacted shows %d keys as \"***\", want 6:\n%s", n, b)
	}

	// It parses back to the same configuration, with the keys "***".
	got, err := Parse("redacted.yaml", b)
	if err != nil {
		t.Fatalf("Parse of Redacted:\n%s\nfails: %v", b, err)
	}
	want := *c
	dtls := *c.CoAP.DTLS
	want.CoAP.DTLS = &dtls
	hidden := Secret("***")
	dtls.PSK = hidden
	dtls.Keys = []IdentityKey{{"alice", hidden}, {"42", hidden}}
	want.Sessions = []Session{c.Sessions[0]}
	want.Sessions[0].PSK = hidden
	want.LwM2M.PSK, want.RD.PSK = hidden, hidden
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("Parse of Redacted =\n%s\nwant\n%s", redactedText(t, got), b)
	}

	// The default, which has no keys, comes back as it is.
	b, err = Default().Redacted()
	if err != nil {
		t.Fatalf("Redacted: %v", err)
	}
	if got, err := Parse("redacted.yaml", b); err != nil || !reflect.DeepEqual(got, Default()) {
		t.Errorf("Parse of Default().Redacted() = %v, %v; want Default()\n%s", got, err, b)
	}
}

// TestLoadLayersInterfaces: a user who lists interfaces in the boot partition's pigw.yaml
// keeps full control: the list replaces the image's (its patterns included), while a file
// that lists none keeps them. A file whose list breaks a rule is left out whole.
func TestLoadLayersInterfaces(t *testing.T) {
	image := []string{"eth*", "en*", "usb*", "wlan0"}
	for _, tt := range []struct {
		name, boot string
		want       []string
		dns        []string
	}{
		{"none listed", "system: {hostname: x}\n", image, nil},
		{"only dns", "network:\n  dns: [1.1.1.1]\n", image, []string{"1.1.1.1"}},
		{"key without a value", "network:\n  interfaces:\n", image, nil},
		{"one static", "network:\n  interfaces:\n    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1}\n", []string{"eth0"}, nil},
		{"own patterns", "network:\n  interfaces:\n    - {name: \"usb*\", dhcp: true, metric: 50}\n", []string{"usb*"}, nil},
		{"empty list", "network:\n  interfaces: []\n", []string{}, nil},
		{"invalid", "network:\n  interfaces:\n    - {name: \"usb*\", addresses: [10.0.0.2/24]}\n", image, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			etc, boot, _ := layerFiles(t, imageNetwork, tt.boot)
			c, layers, err := LoadLayers(etc, boot)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, it := range c.Network.Interfaces {
				names = append(names, it.Name)
			}
			if !reflect.DeepEqual(names, tt.want) || !reflect.DeepEqual(c.Network.DNS, tt.dns) {
				t.Errorf("interfaces %q, dns %q; want %q, %q", names, c.Network.DNS, tt.want, tt.dns)
			}
			if used := layers[2].Used; used == (tt.name == "invalid") {
				t.Errorf("boot layer used %t: %v", used, layers[2].Err)
			}
		})
	}
}
