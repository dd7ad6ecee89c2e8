package vmtest

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPigwModprobeHelper boots pigw as PID 1 with Debian's isofs and ccm modules in the
// guest and nothing that loads them: testdata/modprobeinit mounts an iso9660 filesystem,
// the kernel runs pigw as its module helper for "fs-iso9660", and pigw loads isofs (and its
// dependency cdrom) through modules.alias. Then "pigw modprobe" loads ccm by its alias.
func TestPigwModprobeHelper(t *testing.T) {
	prog, err := os.ReadFile(pigwBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	vm := Start(t, Options{
		Init:    GuestProgram(t, "./internal/vmtest/testdata/modprobeinit"),
		Files:   map[string][]byte{"/etc/pigw.yaml": []byte(etcConfig), "/pigw": prog},
		Modules: append(append([]string(nil), pigwModules...), "isofs", "ccm"),
		Memory:  "256M",
	})
	if line := waitFor(t, vm, `modprobeinit: (done|FAIL.*)\n`, 3*time.Minute); strings.Contains(line, "FAIL") {
		t.Fatal(line)
	}
	for _, re := range []string{
		`modprobeinit: helper /pigw\n`,
		`modprobeinit: isofs loaded by the kernel's request`,
		`modprobeinit: pigw modprobe crypto-ccm loaded ccm\n`,
		`modprobeinit: pigw modprobe of an unknown name failed: exit status 1\n`,
		`modprobeinit: done\n`,
	} {
		if _, err := vm.WaitConsole(regexp.MustCompile(re), time.Second); err != nil {
			t.Errorf("console lacks %s", re)
		}
	}
}
