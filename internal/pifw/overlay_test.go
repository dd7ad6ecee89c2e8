package pifw

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dts decompiles a blob with dtc, sorted, so two trees compare whatever their order.
func dts(t *testing.T, dtb []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "t.dtb")
	if err := os.WriteFile(f, dtb, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dtc", "-q", "-s", "-I", "dtb", "-O", "dts", f).Output()
	if err != nil {
		t.Fatalf("dtc: %v", err)
	}
	return string(out)
}

// TestApplyOverlayAsFDTOverlay: every overlay of the Pi kernel that dtc's fdtoverlay applies to
// the Pi 3 B's tree gives the same tree through ApplyOverlay; the ones fdtoverlay refuses
// and the firmware applies (miniuart-bt) are merged too.
func TestApplyOverlayAsFDTOverlay(t *testing.T) {
	requireDTC(t)
	dir := kernelRPi(t)
	basePath := filepath.Join(dir, "bcm2710-rpi-3-b.dtb")
	base, err := os.ReadFile(basePath)
	if err != nil {
		t.Fatal(err)
	}
	ovs, _ := filepath.Glob(filepath.Join(dir, "overlays", "*.dtbo"))
	same, refusedByDTC, mergedAnyway := 0, 0, 0
	for _, ovPath := range ovs {
		name := strings.TrimSuffix(filepath.Base(ovPath), ".dtbo")
		if strings.Contains(name, "pi5") || strings.Contains(name, "rp1") {
			continue
		}
		ov, err := os.ReadFile(ovPath)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out.dtb")
		if exec.Command("fdtoverlay", "-i", basePath, "-o", out, ovPath).Run() != nil {
			refusedByDTC++
			if _, err := ApplyOverlay(base, ov); err == nil {
				mergedAnyway++
			}
			continue
		}
		want, _ := os.ReadFile(out)
		got, err := ApplyOverlay(base, ov)
		if err != nil {
			t.Errorf("%s: fdtoverlay applies it, ApplyOverlay: %v", name, err)
			continue
		}
		if dts(t, got) != dts(t, want) {
			t.Errorf("%s: ApplyOverlay and fdtoverlay differ", name)
			continue
		}
		same++
	}
	t.Logf("%d overlays merged as fdtoverlay merges them; fdtoverlay refused %d, of which ApplyOverlay merged %d", same, refusedByDTC, mergedAnyway)
	if same < 50 {
		t.Errorf("only %d overlays compared", same)
	}
	ov, _ := os.ReadFile(filepath.Join(dir, "overlays", "miniuart-bt.dtbo"))
	got, err := ApplyOverlay(base, ov)
	if err != nil {
		t.Fatalf("miniuart-bt: %v", err)
	}
	if s := fdtget(t, got, "/aliases", "serial0"); s != "/soc/serial@7e201000" {
		t.Errorf("miniuart-bt: serial0 is %s", s)
	}
}
