package wifi

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pigw/pigw/internal/syncbuf"
)

// TestNewManagerBackend: "auto" takes the wpa_supplicant PATH finds (an image that carries
// one) and nl80211 otherwise, and the log's "wifi starting" line says which and why.
func TestNewManagerBackend(t *testing.T) {
	withBin := t.TempDir()
	bin := filepath.Join(withBin, "wpa_supplicant")
	if err := os.WriteFile(bin, []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := t.TempDir()
	if err := os.WriteFile(filepath.Join(notExec, "wpa_supplicant"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name, path, backend string
		want, chosen        string
		err                 string
	}{
		{"auto with the binary", withBin, "auto", "wpa_supplicant", "auto: " + bin + " is there", ""},
		{"empty is auto", withBin, "", "wpa_supplicant", "auto: " + bin + " is there", ""},
		{"auto without", empty, "auto", "nl80211", "auto: no wpa_supplicant in PATH", ""},
		{"auto, not executable", notExec, "auto", "nl80211", "auto: no wpa_supplicant in PATH", ""},
		{"nl80211 asked, binary there", withBin, "nl80211", "nl80211", "configured", ""},
		{"wpa_supplicant asked", withBin, "wpa_supplicant", "wpa_supplicant", "configured: " + bin, ""},
		{"wpa_supplicant asked, none", empty, "wpa_supplicant", "", "", "the binary is not in the image"},
		{"unknown", withBin, "iwd", "", "", `wifi backend "iwd": must be auto, wpa_supplicant or nl80211`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			var log syncbuf.Buffer
			m, err := NewManager(Config{Interface: "pigw-test-none", Backend: tc.backend,
				Networks: []Network{{SSID: "x", Security: Open}}, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.State().Backend; got != tc.want {
				t.Errorf("backend %s, want %s", got, tc.want)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_ = m.Run(ctx) // stops at once: only its first log line matters here
			if !strings.Contains(log.String(), `msg="wifi starting" backend=`+tc.want) || !strings.Contains(log.String(), "chosen=") || !strings.Contains(log.String(), tc.chosen) {
				t.Errorf("log does not say backend %s, chosen %q:\n%s", tc.want, tc.chosen, log.String())
			}
		})
	}
}
