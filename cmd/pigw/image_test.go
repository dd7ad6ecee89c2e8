package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2G", 2 << 30, true},
		{"512M", 512 << 20, true},
		{"1.5g", 3 << 29, true},
		{"1048576", 1 << 20, true},
		{"", 0, false},
		{"-1G", 0, false},
		{"3X", 0, false},
		{"4T", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestImageUsage(t *testing.T) {
	for _, args := range [][]string{{"image"}, {"image", "build", "--size", "huge", "--out", "x.img"}, {"image", "build", "stray"}} {
		var stderr bytes.Buffer
		if code := run(args, &stderr, &stderr); code != 2 {
			t.Errorf("pigw %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"image", "build"}, &stderr, &stderr); code != 1 || !strings.Contains(stderr.String(), "--out: missing") {
		t.Errorf("pigw image build without --out: exit %d, %q", code, stderr.String())
	}
}
