package vmtest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	initOnce sync.Once
	initPath string
	initErr  error
	initDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	// What the tests built once for all of them: testinit, and the images (a GiB each,
	// sparse) with what was unpacked from them.
	for _, d := range []string{initDir, filepath.Dir(imgPath), filepath.Dir(supImage.path)} {
		if d != "" && d != "." {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// testInit builds testdata/testinit once per test binary, static, for linux/amd64.
func testInit(t *testing.T) string {
	t.Helper()
	initOnce.Do(func() {
		initDir, initErr = os.MkdirTemp("", "vmtest-init-")
		if initErr != nil {
			return
		}
		initPath = filepath.Join(initDir, "init")
		cmd := exec.Command("go", "build", "-trimpath", "-o", initPath, "./testdata/testinit")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			initErr = errors.New(err.Error() + "\n" + string(out))
		}
	})
	if initErr != nil {
		t.Fatalf("building testinit: %v", initErr)
	}
	return initPath
}

// guestModules are what testinit needs for virtio disks and network, ext4 and vfat.
var guestModules = []string{"virtio_pci", "virtio_blk", "virtio_net", "ext4", "vfat", "nls_cp437", "nls_ascii"}

func guestCmdline(extra string) string {
	return "vmtest_modules=" + strings.Join(guestModules, ",") + " " + extra
}

// exchange sends msg to addr every 250ms until an answer comes or timeout passes.
func exchange(addr, msg string, timeout time.Duration) (string, error) {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 1500)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n]), nil
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			time.Sleep(250 * time.Millisecond) // ICMP refused while nothing listens yet
		}
	}
	return "", errors.New("no answer to " + msg + " from " + addr + " within " + timeout.String())
}

func waitConsole(t *testing.T, vm *VM, re string) string {
	t.Helper()
	m, err := vm.WaitConsole(regexp.MustCompile(re), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBoot boots testinit with an ext4 /perm and a FAT boot disk, talks to it over the
// forwarded UDP port and powers it off cleanly.
func TestBoot(t *testing.T) {
	t.Parallel()
	k := requireKernel(t)
	dir := t.TempDir()
	permImg, bootImg := filepath.Join(dir, "perm.img"), filepath.Join(dir, "boot.img")
	MakeExt4(t, permImg, 32, "perm")
	MakeVFAT(t, bootImg, 16, "PIGWBOOT", map[string][]byte{
		"/pigw.yaml":          []byte("name: vm\n"),
		"/overlays/none.dtbo": []byte("x"),
	})

	vm := Start(t, Options{
		Init:       testInit(t),
		Modules:    guestModules,
		Files:      map[string][]byte{"/etc/pigw.yaml": []byte("name: baked\n")},
		PermDisk:   permImg,
		BootDisk:   bootImg,
		ForwardUDP: []int{5683},
		Cmdline:    guestCmdline("vmtest_token=first vmtest_boot=1"),
	})
	up := waitConsole(t, vm, `vmtest-init: up kernel=\S+`)
	t.Logf("Start to %q: %v", up, vm.Since().Round(time.Millisecond))
	if want := "kernel=" + k.version; !strings.HasSuffix(up, want) {
		t.Errorf("console says %q, want %s", up, want)
	}
	waitConsole(t, vm, `vmtest-init: perm found: none`)
	waitConsole(t, vm, `vmtest-init: perm wrote: first`)
	waitConsole(t, vm, `vmtest-init: boot file pigw.yaml: "name: vm\\n"`)
	waitConsole(t, vm, `vmtest-init: eth0 up`)

	addr := vm.HostAddr(5683)
	if vm.HostPort(5683) == 0 || vm.HostPort(1) != 0 {
		t.Fatalf("HostPort(5683)=%d HostPort(1)=%d", vm.HostPort(5683), vm.HostPort(1))
	}
	got, err := exchange(addr, "ping", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got != "pong" {
		t.Fatalf("got %q, want pong", got)
	}
	t.Logf("Start to first pong through %s: %v", addr, vm.Since().Round(time.Millisecond))

	_, _ = exchange(addr, "poweroff", 5*time.Second) // "bye" may be lost as the guest goes
	if err := vm.Wait(time.Minute); err != nil {
		t.Fatalf("Wait after poweroff: %v", err)
	}
	if !strings.Contains(vm.Console(), "reboot: Power down") {
		t.Errorf("console does not show the kernel powering down")
	}
	t.Logf("Start to QEMU exit after poweroff: %v", vm.Since().Round(time.Millisecond))
	// A clean poweroff unmounted /perm: the file system is clean and holds the file.
	if out, err := exec.Command(hostTool(t, "e2fsck"), "-fn", permImg).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn after poweroff: %v\n%s", err, out)
	}
	out, err := exec.Command(hostTool(t, "debugfs"), "-R", "cat /vmtest.txt", permImg).Output()
	if err != nil || string(out) != "first" {
		t.Errorf("debugfs cat /vmtest.txt = %q, %v; want first", out, err)
	}
}

// TestPowerCut kills QEMU after the guest wrote /perm durably; the next boot on the same
// disk finds what it wrote (after ext4 journal recovery).
func TestPowerCut(t *testing.T) {
	t.Parallel()
	permImg := filepath.Join(t.TempDir(), "perm.img")
	MakeExt4(t, permImg, 32, "perm")
	o := Options{
		Init:     testInit(t),
		Modules:  guestModules,
		PermDisk: permImg,
		Cmdline:  guestCmdline("vmtest_token=before-cut"),
	}
	vm := Start(t, o)
	waitConsole(t, vm, `vmtest-init: perm wrote: before-cut`)
	vm.Kill()
	if err := vm.Wait(time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Wait after Kill = %v, want killed", err)
	}

	o.Cmdline = guestCmdline("vmtest_token=after-cut")
	vm2 := Start(t, o)
	waitConsole(t, vm2, `vmtest-init: perm found: before-cut`)
	waitConsole(t, vm2, `vmtest-init: perm wrote: after-cut`)
	if !strings.Contains(vm2.Console(), "recovery complete") {
		t.Logf("note: no ext4 journal recovery message on the second boot")
	}
}

// TestInitExits: when init dies the kernel panics, panic=-1 and -no-reboot make QEMU exit,
// and WaitConsole reports that instead of waiting for its timeout.
func TestInitExits(t *testing.T) {
	t.Parallel()
	requireKernel(t)
	script := []byte("#!/bin/none\n") // not executable: the kernel finds no init
	bin := filepath.Join(t.TempDir(), "init")
	if err := os.WriteFile(bin, script, 0o755); err != nil {
		t.Fatal(err)
	}
	vm := Start(t, Options{Init: bin})
	start := time.Now()
	_, err := vm.WaitConsole(regexp.MustCompile(`never printed`), 2*time.Minute)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("WaitConsole = %v, want an error saying QEMU exited", err)
	}
	if !strings.Contains(vm.Console(), "Kernel panic") {
		t.Errorf("no kernel panic on the console")
	}
	t.Logf("QEMU exit noticed %v after WaitConsole started", time.Since(start).Round(time.Millisecond))
}

// TestInitramfs checks the archive: same bytes twice, the listing cpio(1) reads, and module
// resolution (dependencies, soft dependencies, built-ins).
func TestInitramfs(t *testing.T) {
	files := map[string][]byte{
		"/init":          []byte("\x7fELF..."),
		"/etc/pigw.yaml": []byte("name: x\n"),
		"/a/b/c":         []byte("c"),
	}
	var one, two bytes.Buffer
	if err := writeInitramfs(&one, files); err != nil {
		t.Fatal(err)
	}
	if err := writeInitramfs(&two, files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Fatal("two builds of the same initramfs differ")
	}
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("sh", "-c", "gzip -dc | cpio -itv --quiet")
		cmd.Stdin = &one
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cpio: %v\n%s", err, out)
		}
		for _, want := range []string{
			`drwxr-xr-x .* a\n`, `-rw-r--r-- .* a/b/c\n`, `crw------- .* 5,\s+1 .* dev/console\n`,
			`-rw-r--r-- .* etc/pigw.yaml\n`, `-rwxr-xr-x .* init\n`, `dr-xr-xr-x .* proc\n`,
		} {
			if !regexp.MustCompile(want).Match(out) {
				t.Errorf("cpio listing lacks %s:\n%s", want, out)
			}
		}
	}

	dir, err := KernelDir()
	if err != nil {
		skipOrFatal(t, err.Error())
	}
	k, err := readKernel(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := moduleFiles(k, []string{"ext4", "nls-base"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/lib/modules/" + k.version + "/"
	var names []string
	for p := range mods {
		names = append(names, modName(p))
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"ext4", "jbd2", "mbcache", "crc16", "crc32c_generic", "modules.dep", "modules.softdep"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("modules for ext4 lack %s: %s", want, got)
		}
	}
	if strings.Contains(got, "nls_base") {
		t.Errorf("built-in nls_base was copied: %s", got)
	}
	if dep := string(mods[base+"modules.dep"]); !strings.Contains(dep, "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n") {
		t.Errorf("modules.dep:\n%s", dep)
	}
	if _, err := moduleFiles(k, []string{"no_such_module"}); err == nil {
		t.Error("no error for a module that does not exist")
	}
}
