// Package vmtest boots a static Go binary as PID 1 of a QEMU guest, so tests can exercise
// what only happens at boot: mounting /proc, /sys, /dev and /perm, loading kernel modules,
// bringing up the network, surviving a power cut, powering off.
//
// pigw runs as init on a Raspberry Pi. None of that can be tested as a normal process, and
// there is no Pi here, so a test builds the binary (CGO_ENABLED=0), and Start packs it as
// /init into an initramfs (cpio newc + gzip, written in Go: no root, same bytes for the same
// inputs) with the kernel modules the test asks for, and boots it with qemu-system-x86_64
// (TCG: no KVM is usable here) on a Debian amd64 kernel. The guest's serial console is
// captured; guest UDP ports are forwarded from host 127.0.0.1 through QEMU's user network
// (the guest is 10.0.2.15/24, QEMU's gateway 10.0.2.2 offers DHCP; restrict=on is not used
// because it drops the guest's UDP answers, so a guest could reach out through NAT: test
// guests must not); raw disk images made with MakeExt4 and MakeVFAT appear as virtio disks.
//
// The kernel comes from fetch-kernel.sh (make vm-kernel), which unpacks Debian's
// linux-image-amd64 into $PIGW_VM_KERNEL_DIR (default /var/cache/pigw-vm). Tests never fetch:
// without that directory or without QEMU they skip, or fail when CI=true. Options.Arch
// "arm64" boots Debian's arm64 kernel ($PIGW_VM_ARM64_DIR) on qemu-system-aarch64's virt
// machine instead, for the Pi's own programs (arch.go).
//
// Facts about that kernel a guest init must live with: virtio_pci, virtio_blk, virtio_net,
// ext4 and vfat are modules, not built in. ext4 (and jbd2) need crc32c, a soft dependency
// ("crypto-crc32c": crc32c_generic) that modules.dep does not list and the kernel would load
// through /sbin/modprobe, which the guest does not have ("Cannot load crc32c driver");
// vfat needs nls_cp437 and nls_ascii (the default codepage and iocharset), which are not even
// soft dependencies ("codepage cp437 not found"). Start adds soft dependencies to the
// initramfs by itself, the nls modules only when listed in Options.Modules; loading them
// first is the guest's job: pigw's boot.LoadModules does it (testdata/testinit uses it too).
package vmtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/freeport"
)

// DefaultKernelDir is where fetch-kernel.sh puts the kernel when PIGW_VM_KERNEL_DIR is unset.
const DefaultKernelDir = "/var/cache/pigw-vm"

const qemuBinary = "qemu-system-x86_64"

// Options describe one guest.
type Options struct {
	// Arch is the guest's architecture: "amd64" (the default: qemu-system-x86_64 with the
	// kernel in $PIGW_VM_KERNEL_DIR) or "arm64" (qemu-system-aarch64 -M virt with the kernel
	// in $PIGW_VM_ARM64_DIR); see arch.go.
	Arch string
	// Init is the path of a static Linux binary for Arch that becomes /init (PID 1).
	Init string
	// Files are extra files of the initramfs, by absolute path ("/etc/pigw.yaml"). Parent
	// directories are created. Content starting with "\x7fELF" or "#!" gets mode 0755,
	// anything else 0644.
	Files map[string][]byte
	// Binaries are host programs (absolute paths, or bare names looked up in PATH, /usr/sbin,
	// /sbin, /usr/bin and /bin) copied into the initramfs at the path they have on the host,
	// with every shared library and the dynamic loader that ldd lists, so they run in the
	// guest. Files of the same path win. amd64 guests only: an arm64 guest gets its
	// programs in Files (RootFiles reads a directory laid out as a root).
	Binaries []string
	// Modules are kernel module names ("virtio_blk"; '-' and '_' are the same) copied into
	// /lib/modules/<kver>/ of the initramfs with their dependencies from modules.dep and
	// their soft "pre:" dependencies from modules.softdep. Built-in modules are skipped.
	// The initramfs gets modules.dep, modules.softdep and modules.alias reduced to the
	// copied modules, and modules.builtin. Nothing is loaded: that is the init's job.
	Modules []string
	// PermDisk is a raw disk image attached as the first virtio disk (/dev/vda), or "".
	PermDisk string
	// BootDisk is a raw disk image attached as the next virtio disk: /dev/vdb, or /dev/vda
	// when PermDisk is "".
	BootDisk string
	// ForwardUDP are guest UDP ports (on the guest's 10.0.2.15) forwarded from free host
	// ports on 127.0.0.1: see HostPort.
	ForwardUDP []int
	// ForwardTCP are guest TCP ports forwarded the same way: see HostTCPAddr.
	ForwardTCP []int
	// Cmdline is appended to the kernel command line "console=ttyS0 panic=-1" (ttyAMA0 on
	// arm64). The kernel hands unknown "name=value" words without a dot to init as
	// environment variables and other unknown words, and everything after "--", as arguments.
	Cmdline string
	// Memory is QEMU's -m; default "256M".
	Memory string
	// QEMUArgs are appended to QEMU's command line.
	QEMUArgs []string
	// StartTimeout bounds how long Start waits for the first byte on the serial console;
	// default 60s.
	StartTimeout time.Duration
	// QMP connects the harness to QEMU's machine protocol before the guest starts, for the
	// events QEMU reports (VM.WaitEvent, VM.Events): why the machine stopped, what its
	// watchdog did (qmp.go).
	QMP bool
}

// VM is a running (or exited) QEMU guest.
type VM struct {
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	console *consoleBuf
	stderr  *consoleBuf
	ports   map[int]int // forwarded UDP ports, guest → host
	tcp     map[int]int // forwarded TCP ports, guest → host
	started time.Time

	done    chan struct{} // closed when QEMU has exited and its output is drained
	waitErr error         // QEMU's exit status, valid after done
	killed  bool
	mu      sync.Mutex

	qmpPath string // QEMU's QMP socket, "" without Options.QMP
	events  eventLog
}

// KernelDir returns the directory fetch-kernel.sh filled ($PIGW_VM_KERNEL_DIR, default
// /var/cache/pigw-vm), or an error that says how to fill it.
func KernelDir() (string, error) {
	dir := guestArches["amd64"].kernelDir()
	if _, err := readKernel(dir); err != nil {
		return dir, fmt.Errorf("%w; PIGW_VM_KERNEL_DIR chooses the directory", err)
	}
	return dir, nil
}

// kernel is what fetch-kernel.sh left in a kernel directory.
type kernel struct {
	vmlinuz string // vmlinux (ELF) when there is one, else the bzImage
	version string
	modDir  string // DIR/root/lib/modules/<version>
}

func readKernel(dir string) (*kernel, error) {
	hint := fmt.Errorf("no QEMU test kernel in %s: run `make vm-kernel` (or internal/vmtest/fetch-kernel.sh %s)", dir, dir)
	b, err := os.ReadFile(filepath.Join(dir, "kver"))
	if err != nil {
		return nil, hint
	}
	k := &kernel{
		vmlinuz: filepath.Join(dir, "vmlinuz"),
		version: strings.TrimSpace(string(b)),
	}
	// The decompressed kernel boots through PVH, about 3 s sooner under TCG.
	if _, err := os.Stat(filepath.Join(dir, "vmlinux")); err == nil {
		k.vmlinuz = filepath.Join(dir, "vmlinux")
	}
	k.modDir = filepath.Join(dir, "root", "lib", "modules", k.version)
	for _, f := range []string{k.vmlinuz, filepath.Join(k.modDir, "modules.dep")} {
		if _, err := os.Stat(f); err != nil {
			return nil, hint
		}
	}
	return k, nil
}

// skipOrFatal skips the test, or fails it when CI=true: CI must run every VM test.
func skipOrFatal(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// requireKernel returns the kernel, or skips (fails under CI) when QEMU or the kernel is missing.
func requireKernel(t testing.TB) *kernel {
	t.Helper()
	return requireKernelFor(t, guestArches["amd64"])
}

// Start builds the initramfs and boots it. It returns once the guest has printed its first
// byte on the serial console, and fails the test if QEMU exits or stays silent before that.
// t.Cleanup kills QEMU and, if the test failed, logs the console.
func Start(t testing.TB, o Options) *VM {
	t.Helper()
	a := archOf(t, o.Arch)
	k := requireKernelFor(t, a)
	if o.Init == "" {
		t.Fatal("vmtest: Options.Init is empty")
	}
	if err := a.checkInit(o.Init); err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	if o.Memory == "" {
		o.Memory = "256M"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}

	if len(o.Binaries) > 0 && a.goarch != "amd64" {
		t.Fatalf("vmtest: Options.Binaries are the host's amd64 programs; an %s guest takes its programs in Files", a.goarch)
	}
	if len(o.Binaries) > 0 {
		bins, err := binaryFiles(o.Binaries)
		if err != nil {
			skipOrFatal(t, "vmtest: binaries: "+err.Error())
		}
		for p, b := range o.Files {
			bins[path.Clean(p)] = b
		}
		o.Files = bins
	}

	dir := t.TempDir()
	initrd := filepath.Join(dir, "initramfs.cpio.gz")
	if err := buildInitramfs(initrd, k, o); err != nil {
		t.Fatalf("vmtest: initramfs: %v", err)
	}

	vm := newVM(t, o.ForwardUDP, o.ForwardTCP)
	var qmpArgs []string
	if o.QMP {
		qmpArgs = vm.qmpArgs()
	}
	args := append([]string{"-accel", "tcg"}, a.machine...)
	args = append(args,
		"-m", o.Memory,
		"-nodefaults", "-no-user-config", "-display", "none",
		"-serial", "stdio",
		"-no-reboot",
		"-kernel", k.vmlinuz,
		"-initrd", initrd,
		"-append", strings.TrimSpace("console="+a.console+" panic=-1 "+o.Cmdline),
		"-netdev", vm.netdev(),
		"-device", "virtio-net-pci,netdev=n0,romfile=",
	)
	for _, d := range []string{o.PermDisk, o.BootDisk} {
		if d != "" {
			args = append(args, "-drive", "file="+d+",if=virtio,format=raw")
		}
	}
	vm.launch(a.qemu, append(append(args, qmpArgs...), o.QEMUArgs...), o.StartTimeout)
	return vm
}

// newVM picks free host ports for the guest ports to forward.
func newVM(t testing.TB, forwardUDP, forwardTCP []int) *VM {
	t.Helper()
	vm := &VM{
		t:       t,
		console: newConsoleBuf(os.Getenv("PIGW_VM_CONSOLE") != ""),
		stderr:  newConsoleBuf(false),
		ports:   map[int]int{},
		tcp:     map[int]int{},
		done:    make(chan struct{}),
	}
	var err error
	if vm.ports, err = freePorts(forwardUDP, freeport.UDP); err == nil {
		vm.tcp, err = freePorts(forwardTCP, freeport.TCP)
	}
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	return vm
}

// freePorts maps each guest port to a free host port.
func freePorts(guest []int, free func() (int, error)) (map[int]int, error) {
	m := map[int]int{}
	for _, gp := range guest {
		hp, err := free()
		if err != nil {
			return nil, fmt.Errorf("free host port for guest port %d: %w", gp, err)
		}
		m[gp] = hp
	}
	return m, nil
}

// netdev is QEMU's user network "n0" with the forwarded ports.
func (vm *VM) netdev() string {
	// Not restrict=on: libslirp then drops every UDP datagram from the guest, answers to
	// forwarded ports included.
	netdev := "user,id=n0"
	for gp, hp := range vm.ports {
		netdev += fmt.Sprintf(",hostfwd=udp:127.0.0.1:%d-:%d", hp, gp)
	}
	for gp, hp := range vm.tcp {
		netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", hp, gp)
	}
	return netdev
}

// launch starts QEMU and returns once the guest has printed its first byte on the serial
// console; it fails the test if QEMU exits or stays silent before that. t.Cleanup kills QEMU
// and, if the test failed, logs the console.
func (vm *VM) launch(qemu string, args []string, startTimeout time.Duration) {
	vm.t.Helper()
	if err := vm.start(qemu, args, startTimeout); err != nil {
		vm.t.Fatal(err)
	}
}

// errSilent is a guest that printed nothing on its console in time.
var errSilent = errors.New("vmtest: no console output from the guest")

// start starts QEMU and waits for the first console byte; it returns errSilent (wrapped)
// when none comes in time, and kills QEMU then.
func (vm *VM) start(qemu string, args []string, startTimeout time.Duration) error {
	t := vm.t
	t.Helper()
	vm.cmd = exec.Command(qemu, args...)
	stdin, err := vm.cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("vmtest: %v", err)
	}
	vm.stdin = stdin
	vm.cmd.Stdout = vm.console
	vm.cmd.Stderr = vm.stderr
	// QEMU dies with the test binary even if cleanups never run.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	vm.started = time.Now()
	if err := vm.cmd.Start(); err != nil {
		return fmt.Errorf("vmtest: %v", err)
	}
	go func() {
		vm.waitErr = vm.cmd.Wait()
		close(vm.done)
	}()
	t.Cleanup(func() {
		vm.Kill()
		if t.Failed() {
			t.Logf("vmtest: QEMU %s\n--- serial console ---\n%s\n--- QEMU stderr ---\n%s", strings.Join(vm.cmd.Args, " "), vm.Console(), vm.stderr.String())
		}
	})
	if vm.qmpPath != "" { // QEMU starts the guest once the harness is connected
		if err := vm.connectQMP(vm.qmpPath, startTimeout); err != nil {
			vm.Kill()
			return err
		}
	}

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	for {
		n, changed := vm.console.state()
		if n > 0 {
			return nil
		}
		select {
		case <-changed:
		case <-vm.done:
			if vm.console.len() > 0 {
				return nil
			}
			return fmt.Errorf("vmtest: QEMU exited at start (%v): %s", vm.waitErr, vm.stderr.String())
		case <-timer.C:
			vm.Kill()
			return fmt.Errorf("%w within %v", errSilent, startTimeout)
		}
	}
}

// SendConsole types b on the guest's serial console.
func (vm *VM) SendConsole(b []byte) error {
	_, err := vm.stdin.Write(b)
	return err
}

// HostPort returns the host UDP port on 127.0.0.1 forwarded to guestPort, or 0 if
// guestPort is not in Options.ForwardUDP.
func (vm *VM) HostPort(guestPort int) int { return vm.ports[guestPort] }

// HostAddr returns "127.0.0.1:<HostPort(guestPort)>".
func (vm *VM) HostAddr(guestPort int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(vm.HostPort(guestPort)))
}

// HostTCPAddr returns the host address forwarded to the guest's TCP port guestPort.
func (vm *VM) HostTCPAddr(guestPort int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(vm.tcp[guestPort]))
}

// Console returns the serial console so far (carriage returns removed).
func (vm *VM) Console() string { return vm.console.String() }

// Since returns how long ago Start launched QEMU.
func (vm *VM) Since() time.Duration { return time.Since(vm.started) }

// WaitConsole waits until re matches the console's complete lines (from the first one:
// a line still being written is not searched, so `\S+` cannot stop mid-word) and returns
// the match. It fails at once if QEMU has exited without a match, and after timeout.
func (vm *VM) WaitConsole(re *regexp.Regexp, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	lines := func() string {
		s := vm.console.String()
		return s[:strings.LastIndexByte(s, '\n')+1]
	}
	for {
		_, changed := vm.console.state()
		if m := re.FindString(lines()); m != "" {
			return m, nil
		}
		select {
		case <-changed:
		case <-vm.done:
			if m := re.FindString(vm.console.String()); m != "" {
				return m, nil
			}
			return "", fmt.Errorf("vmtest: QEMU exited (%v) before the console matched %q", vm.exitErr(), re)
		case <-timer.C:
			return "", fmt.Errorf("vmtest: console did not match %q within %v", re, timeout)
		}
	}
}

// Kill kills QEMU with SIGKILL, a power cut for the guest, and waits until it is gone, so
// its disk images can be used again. Kill on an exited VM does nothing.
func (vm *VM) Kill() {
	select {
	case <-vm.done:
		return
	default:
	}
	vm.mu.Lock()
	vm.killed = true
	vm.mu.Unlock()
	_ = vm.cmd.Process.Kill()
	<-vm.done
}

// Wait waits for QEMU to exit by itself (the guest powered off, rebooted or panicked:
// -no-reboot turns all of these into an exit). It returns an error if QEMU failed or was
// killed, or is still running after timeout.
func (vm *VM) Wait(timeout time.Duration) error {
	select {
	case <-vm.done:
		return vm.exitErr()
	case <-time.After(timeout):
		return fmt.Errorf("vmtest: QEMU still running after %v", timeout)
	}
}

func (vm *VM) exitErr() error {
	vm.mu.Lock()
	killed := vm.killed
	vm.mu.Unlock()
	if killed {
		return errors.New("vmtest: QEMU was killed")
	}
	if vm.waitErr != nil {
		return fmt.Errorf("vmtest: QEMU: %v: %s", vm.waitErr, strings.TrimSpace(vm.stderr.String()))
	}
	return nil
}

// consoleBuf collects output and wakes waiters on every write.
type consoleBuf struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
	tee     io.Writer
}

func newConsoleBuf(tee bool) *consoleBuf {
	c := &consoleBuf{changed: make(chan struct{})}
	if tee {
		c.tee = os.Stderr
	}
	return c
}

func (c *consoleBuf) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(bytes.ReplaceAll(p, []byte("\r"), nil))
	if c.tee != nil {
		_, _ = c.tee.Write(p)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return len(p), nil
}

func (c *consoleBuf) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *consoleBuf) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len()
}

// state returns the length so far and a channel closed at the next write.
func (c *consoleBuf) state() (int, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len(), c.changed
}
