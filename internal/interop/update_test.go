package interop

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
	"github.com/pigw/pigw/internal/syncbuf"
)

// updateDevice is a pigw run that takes updates into a file: the root it judges bundles by
// (a release file and the trusted key) and the slot file.
type updateDevice struct {
	*server
	root, slot, pskFile string
	key                 ed25519.PrivateKey
	dport               int
}

var updateRelease = bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1", Seq: 100, Floor: 100, KernelRelease: "6.12.47-v8"}

func startUpdateDevice(t *testing.T, slotSize int64) *updateDevice {
	t.Helper()
	return startUpdateDeviceWith(t, slotSize, "")
}

// startUpdateDeviceWith is startUpdateDevice with more sections in the configuration.
func startUpdateDeviceWith(t *testing.T, slotSize int64, more string) *updateDevice {
	t.Helper()
	dir := t.TempDir()
	d := &updateDevice{root: filepath.Join(dir, "root"), slot: filepath.Join(dir, "slot-b"), pskFile: filepath.Join(dir, "admin.psk"), dport: freePort(t)}
	_, d.key, _ = ed25519.GenerateKey(rand.Reader)
	if err := bundletest.WriteRoot(d.root, updateRelease, d.key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.pskFile, []byte("adminkey"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.slot, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(d.slot, slotSize); err != nil {
		t.Fatal(err)
	}
	d.server = startServerArgs(t, seedConfig(fmt.Sprintf(`  dtls:
    listen: ["127.0.0.1:%d"]
    keys: {admin: adminkey, user: userkey}
    admins: [admin]
`, d.dport))+more, nil, nil, []string{"--update-root", d.root, "--update-slot", d.slot})
	return d
}

func (d *updateDevice) url() string { return fmt.Sprintf("coaps://127.0.0.1:%d", d.dport) }

// writeBundle writes a bundle of a root of n random bytes signed with key, and returns its
// path and root.
func writeBundle(t *testing.T, key ed25519.PrivateKey, n int, edit func(*bundle.Manifest)) (string, []byte) {
	t.Helper()
	root := randomBody(uint64(n), n)
	rel := updateRelease
	rel.Version, rel.Seq, rel.Floor = "v2", 200, 200
	m := rel.Manifest(bundletest.Root(root))
	if edit != nil {
		edit(&m)
	}
	b, err := bundletest.Bundle(m, root, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pigw-rpi.update")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, root
}

// pigwUpdate runs pigw update to the end.
func pigwUpdate(t *testing.T, args ...string) cliRun {
	t.Helper()
	return pigwCommand(t, nil, nil, append([]string{"update"}, args...)...)
}

func (d *updateDevice) slotHolds(t *testing.T, root []byte) bool {
	b, err := os.ReadFile(d.slot)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(b[:len(root)], root)
}

// TestUpdatePush pushes bundles with pigw update to pigw run: a good one lands in the slot,
// read back and verified; bad ones are refused with the device's reason and nothing written.
func TestUpdatePush(t *testing.T) {
	t.Parallel()
	d := startUpdateDevice(t, 8<<20)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	untrusted, _ := writeBundle(t, otherKey, 1<<20, nil)
	downgrade, _ := writeBundle(t, d.key, 1<<20, func(m *bundle.Manifest) { m.Seq, m.Floor = 99, 99 })
	armv6, _ := writeBundle(t, d.key, 1<<20, func(m *bundle.Manifest) { m.BoardFamily = "rpi-armv6" })
	huge, _ := writeBundle(t, d.key, 9<<20, nil)
	for _, tc := range []struct {
		name, bundle, identity string
		want                   []string
	}{
		{"untrusted key", untrusted, "admin", []string{"4.03", "which this image does not trust"}},
		{"downgrade", downgrade, "admin", []string{"4.03", "below this device's floor 100"}},
		{"wrong board", armv6, "admin", []string{"4.03", `board family "rpi-armv6"`}},
		{"larger than the slot", huge, "admin", []string{"4.13", "does not fit"}},
	} {
		r := pigwUpdate(t, "--download-only", "--identity", tc.identity, "--psk-file", d.pskFile, d.url(), tc.bundle)
		wantExit(t, r, 1, tc.want...)
	}
	// A 4.13 says how large a bundle the device takes (Size1): the header and the 8 MiB slot.
	lr := coapsClient(t, "admin", "adminkey", "-m", "put", "-b", "1024", "-f", huge, d.url()+"/sys/update")
	if last := lr.Last(t); last.Code != "4.13" {
		t.Errorf("libcoap's upload of a bundle too large: %s", last.Line)
	} else if size1, _ := last.Opt("Size1"); size1 != fmt.Sprint(bundle.HeaderSize+8<<20) {
		t.Errorf("4.13 with Size1 %q, want %d", size1, bundle.HeaderSize+8<<20)
	}
	r := pigwUpdate(t, "--download-only", "--identity", "user", "--psk", "userkey", d.url(), untrusted)
	wantExit(t, r, 1, "4.03", `identity "user" is not in coap.dtls.admins`)
	if b, _ := os.ReadFile(d.slot); !bytes.Equal(b, make([]byte, len(b))) {
		t.Fatal("a refused bundle wrote to the slot")
	}

	good, root := writeBundle(t, d.key, 6<<20+321, nil)
	// An admin observes the status while the bundle goes up.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obs := exec.CommandContext(ctx, pigwBin, "coap", "observe", "--identity", "admin", "--psk", "adminkey", d.url()+"/sys/update")
	var observed syncbuf.Buffer
	obs.Stdout, obs.Stderr = &observed, &observed
	if err := obs.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(observed.String(), `"state":`) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	r = pigwUpdate(t, "--download-only", "--identity", "admin", "--psk-file", d.pskFile, d.url(), good)
	took := time.Since(start)
	wantExit(t, r, 0)
	wantStdout(t, r, "slot b of", "holds v2 seq 200, read back and verified")
	if !d.slotHolds(t, root) {
		t.Fatal("the slot does not hold the bundle's root")
	}
	time.Sleep(500 * time.Millisecond)
	_ = obs.Process.Signal(os.Interrupt)
	_ = obs.Wait()
	for _, want := range []string{`"state":0`, `"state":1`, `"state":2`, `"content":"verified"`} {
		if !strings.Contains(observed.String(), want) {
			t.Errorf("observing /sys/update during the upload: no %s in\n%s", want, observed.String())
		}
	}
	size := int64(len(root) + bundle.HeaderSize)
	t.Logf("pigw update over DTLS on loopback: %d bytes in %s, %.0f KB/s (Block1, 1024-byte blocks)", size, took.Round(time.Millisecond), float64(size)/1e3/took.Seconds())
	// Pushed again, and applied: the device has it, nothing is sent; a pigw that is not the
	// card's init refuses to apply.
	r = pigwUpdate(t, "--identity", "admin", "--psk-file", d.pskFile, d.url(), good)
	wantExit(t, r, 1, "5.03", "not as the card's init")
	wantStdout(t, r, "read back and verified")

	// libcoap's client uploads a bundle too: Block1 needs nothing pigw-specific.
	other, root3 := writeBundle(t, d.key, 2<<20+7, func(m *bundle.Manifest) { m.Version, m.Seq = "v3", 300 })
	lr = coapsClient(t, "admin", "adminkey", "-m", "put", "-b", "1024", "-f", other, d.url()+"/sys/update")
	if last := lr.Last(t); last.Code != "2.04" || !strings.Contains(last.Payload, `"version":"v3"`) {
		t.Errorf("libcoap upload: %s %q\n%s", last.Code, last.Payload, lr.Stderr)
	}
	if !d.slotHolds(t, root3) {
		t.Error("the slot does not hold the root libcoap uploaded")
	}
}

func wantStdout(t *testing.T, r cliRun, substrs ...string) {
	t.Helper()
	for _, s := range substrs {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("stdout lacks %q\n%s", s, r)
		}
	}
}

// TestUpdateResume kills the device in the middle of an upload and starts it again: pigw
// update resumes from what the device says is on its medium, and the root arrives whole.
func TestUpdateResume(t *testing.T) {
	t.Parallel()
	d := startUpdateDevice(t, 16<<20)
	good, root := writeBundle(t, d.key, 12<<20, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pigwBin, "update", "--download-only", "--identity", "admin", "--psk-file", d.pskFile, "--timeout", "5s", d.url(), good)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !regexp.MustCompile(`uploading [3-9]\.\d MiB`).MatchString(out.String()) {
		if ctx.Err() != nil {
			t.Fatalf("no progress:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.Kill()
	time.Sleep(time.Second)
	if err := d.launch(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pigw update: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "read back and verified") || !strings.Contains(out.String(), "resuming") {
		t.Errorf("pigw update output:\n%s", out.String())
	}
	m := regexp.MustCompile(`msg="update upload can resume" subsystem=update upload=\w+ version=v2 bytes=(\d+)`).FindStringSubmatch(d.Log())
	if m == nil || m[1] == "4096" {
		t.Fatalf("the restarted device did not resume above the header (%v):\n%s", m, tail(d.Log(), 3000))
	}
	if !d.slotHolds(t, root) {
		t.Fatal("the slot does not hold the bundle's root")
	}
	t.Logf("resumed at byte %s of %d", m[1], len(root)+bundle.HeaderSize)
}
