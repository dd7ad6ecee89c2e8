package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestModprobeArgs(t *testing.T) {
	for _, c := range []struct {
		argv0 string
		args  []string
		want  []string
		ok    bool
	}{
		{"/pigw", []string{"-q", "--", "brcmfmac-wcc"}, []string{"-q", "--", "brcmfmac-wcc"}, true}, // the kernel
		{"/pigw", []string{"--", "fs-vfat"}, []string{"--", "fs-vfat"}, true},
		{"/sbin/modprobe", []string{"isofs"}, []string{"isofs"}, true},
		{"/pigw", []string{"modprobe", "-v", "isofs"}, []string{"-v", "isofs"}, true},
		{"/pigw", []string{"run"}, nil, false},
		{"/pigw", nil, nil, false},
		{"pigw", []string{"version"}, nil, false},
	} {
		got, ok := modprobeArgs(c.argv0, c.args)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("modprobeArgs(%q, %q) = %q, %v; want %q, %v", c.argv0, c.args, got, ok, c.want, c.ok)
		}
	}
}

func TestParseModprobe(t *testing.T) {
	for _, c := range []struct {
		args           []string
		quiet, verbose bool
		specs          []string
		err            string
	}{
		{args: []string{"-q", "--", "brcmfmac-wcc"}, quiet: true, specs: []string{"brcmfmac-wcc"}},
		{args: []string{"-q", "--", "crypto-ccm(aes)"}, quiet: true, specs: []string{"crypto-ccm(aes)"}},
		{args: []string{"-v", "isofs", "i2c-stub", "chip_addr=0x76,0x48", "i2c-dev"}, verbose: true,
			specs: []string{"isofs", "i2c-stub chip_addr=0x76,0x48", "i2c-dev"}},
		{args: []string{"--", "-odd-name"}, specs: []string{"-odd-name"}},
		{args: []string{"-q"}, quiet: true, err: "no module name"},
		{args: []string{"-x", "isofs"}, err: "unknown flag -x"},
		{args: []string{"two words"}, err: "bad module name"},
		{args: []string{""}, err: "bad module name"},
	} {
		quiet, verbose, specs, err := parseModprobe(c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseModprobe(%q): error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || quiet != c.quiet || verbose != c.verbose || !slices.Equal(specs, c.specs) {
			t.Errorf("parseModprobe(%q) = %v, %v, %q, %v; want %v, %v, %q", c.args, quiet, verbose, specs, err, c.quiet, c.verbose, c.specs)
		}
	}
}

// Whatever the host has in /lib/modules, a name nothing has fails with status 1, quietly
// with -q; usage errors are status 2.
func TestRunModprobeStatus(t *testing.T) {
	const bogus = "pigw-test-no-such-module-or-alias"
	for _, c := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"-q", "--", bogus}, 1, ""},
		{[]string{"--", bogus}, 1, "pigw modprobe: modprobe " + bogus},
		{[]string{"-q"}, 2, ""},
		{[]string{"--bogus-flag", "x"}, 2, "unknown flag"},
		{[]string{"-h"}, 0, "usage: pigw modprobe"},
	} {
		var stderr bytes.Buffer
		if got := runModprobe(c.args, &stderr); got != c.status {
			t.Errorf("runModprobe(%q) = %d, want %d; stderr %q", c.args, got, c.status, stderr.String())
		}
		if c.stderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("runModprobe(%q): stderr %q, want %q", c.args, stderr.String(), c.stderr)
		}
	}
}

// The kernel's helper invocation goes through run.
func TestRunDispatchesModprobe(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if got := run([]string{"-q", "--", "pigw-test-no-such-module-or-alias"}, &stdout, &stderr); got != 1 {
		t.Errorf("run -q -- bogus = %d, want 1", got)
	}
	if stdout.Len()+stderr.Len() > 0 {
		t.Errorf("-q printed %q %q", stdout.String(), stderr.String())
	}
}
