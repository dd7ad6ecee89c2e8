package vmtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/web"
	"github.com/pigw/pigw/image"

	// The kernel StartImage boots: imported so that go.mod pins it and the go command
	// fetches it for these tests.
	_ "github.com/gokrazy/kernel.arm64"
)

// These tests boot the SD-card image that `pigw image build` writes, unchanged, on QEMU's
// arm64 virt machine with gokrazy's kernel.arm64: the kernel mounts the squashfs root from
// /dev/vda2, pigw runs as init, finds the FAT boot partition and the ext4 /perm by their
// labels as on a Pi, and gets eth0's address from QEMU's DHCP server, as the image's own
// /etc/pigw.yaml says.

var (
	imgOnce sync.Once
	imgPath string
	imgRes  *image.Result
	imgErr  error
)

// builtImage builds the image once per test binary (with the starter pigw.yaml) and returns
// a copy of it for the test to boot and change.
func builtImage(t testing.TB) (string, *image.Result) {
	t.Helper()
	imgOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			imgErr = err
			return
		}
		dir, err := os.MkdirTemp("", "pigw-vm-image")
		if err != nil {
			imgErr = err
			return
		}
		imgPath = filepath.Join(dir, "pigw-rpi.img")
		start := time.Now()
		imgRes, imgErr = image.Build(context.Background(), image.Options{Out: imgPath, Size: 1 << 30,
			ModuleRoot: root, Version: "vmtest"})
		t.Logf("image built in %v", time.Since(start).Round(100*time.Millisecond))
	})
	if imgErr != nil {
		t.Fatalf("image build: %v", imgErr)
	}
	cp := filepath.Join(t.TempDir(), "pigw-rpi.img")
	if out, err := exec.Command("cp", "--sparse=always", imgPath, cp).CombinedOutput(); err != nil {
		t.Fatalf("copy the image: %v %s", err, out)
	}
	return cp, imgRes
}

// firstAnswer waits for the guest's first answer to GET /.well-known/core and logs the time
// from QEMU's start.
func firstAnswer(t testing.TB, vm *VM, s *coap.Session) coap.Response {
	t.Helper()
	r := until(t, s, coap.NewRequest(coap.GET, ".well-known/core"), 180*time.Second)
	t.Logf("first CoAP answer %v after QEMU started (arm64 under TCG)", vm.Since().Round(100*time.Millisecond))
	return r
}

// TestImageBoot: the image as built answers CoAP with the starter configuration, finds its
// boot and perm partitions, and serves the status page on port 80.
func TestImageBoot(t *testing.T) {
	img, _ := builtImage(t)
	vm := StartImage(t, ImageOptions{Image: img, ForwardUDP: []int{5683}, ForwardTCP: []int{80}})
	s := session(t, vm, false)
	if r := firstAnswer(t, vm, s); r.Code != coap.Content || !strings.HasPrefix(string(r.Payload), "</") {
		t.Errorf("/.well-known/core: %v %s", r.Code, r.Payload)
	}
	waitFor(t, vm, `msg="boot done" took=\S+ perm=true boot_partition=true`, 10*time.Second)
	// eth0 by the image's pattern eth*, with the wired metric.
	t.Log(waitFor(t, vm, `msg="link matches a pattern" link=eth0 pattern=eth\* up=true dhcp=true metric=100`, 10*time.Second))
	t.Log(waitFor(t, vm, `msg="DHCP lease" link=eth0 address=10\.0\.2\.15/24 router=10\.0\.2\.2`, 20*time.Second))
	r := until(t, s, coap.NewRequest(coap.GET, "sys/info"), 10*time.Second)
	var info map[string]any
	if err := json.Unmarshal(r.Payload, &info); err != nil || r.Code != coap.Content {
		t.Fatalf("/sys/info: %v %s", r.Code, r.Payload)
	}
	t.Logf("/sys/info: %s", r.Payload)
	if info["version"] != "vmtest" {
		t.Errorf("/sys/info version %v, want vmtest", info["version"])
	}
	checkStatusPage(t, vm, "eth0")
}

// checkStatusPage fetches the status page and /api/status from the guest's port 80, checks
// that they name the image's host and version and link's lease from QEMU's DHCP server, and
// returns the status.
func checkStatusPage(t *testing.T, vm *VM, link string) web.Snapshot {
	t.Helper()
	base := "http://" + vm.HostTCPAddr(80)
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		r, err := hc.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer r.Body.Close()
		body, err := io.ReadAll(r.Body)
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %v\n%s", path, r.Status, err, body)
		}
		return r, body
	}
	r, page := get("/")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(page), "pigw") {
		t.Errorf("GET /: %s, %d bytes, want the page", ct, len(page))
	}
	_, body := get("/api/status")
	var st web.Snapshot
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("/api/status: %v\n%s", err, body)
	}
	if st.System.Hostname != "pigw" || st.System.Version != "vmtest" {
		t.Errorf("/api/status system %+v, want host pigw, version vmtest", st.System)
	}
	if !slices.ContainsFunc(st.Network.Links, func(l web.Link) bool {
		return l.Name == link && l.Lease != nil && l.Lease.Address == "10.0.2.15/24"
	}) {
		t.Errorf("/api/status: no %s with its lease 10.0.2.15/24:\n%s", link, body)
	}
	t.Logf("status page: %d bytes, /api/status %d bytes", len(page), len(body))
	return st
}

// editedConfig is what a user writes onto the card's boot partition: a resource of their
// own, dynamic resources, and a DTLS admin to reboot it.
const editedConfig = `coap:
  dynamic_resources: true
  dtls:
    listen: ["0.0.0.0:5684"]
    keys: {admin: adminkey}
    admins: [admin]
  resources:
    - {uri: greenhouse, value: "tomatoes", methods: [GET, PUT]}
`

// TestImageEditedConfigAndReboot: pigw.yaml replaced on the boot partition with mcopy adds a
// resource; a dynamic resource PUT in one boot is there after a reboot of the same card. The
// card boots as a Pi would, from the root= of its own cmdline.txt (root=PARTUUID=...-02), and
// the reboot is the guest's own: the harness boots the card again.
func TestImageEditedConfigAndReboot(t *testing.T) {
	img, res := builtImage(t)
	replaceBootFile(t, img, res, "pigw.yaml", editedConfig)

	card := StartCard(t, CardOptions{ImageOptions: ImageOptions{Image: img, ForwardUDP: []int{5683, 5684}}})
	vm := card.VM()
	s := session(t, vm, false)
	firstAnswer(t, vm, s)
	if r := until(t, s, coap.NewRequest(coap.GET, "greenhouse"), 10*time.Second); r.Code != coap.Content || string(r.Payload) != "tomatoes" {
		t.Fatalf("GET /greenhouse from the edited pigw.yaml: %v %q", r.Code, r.Payload)
	}
	put := coap.NewRequest(coap.PUT, "made/in/boot1")
	put.Payload = []byte("first boot")
	if r := until(t, s, put, 10*time.Second); r.Code.String() != "2.01" {
		t.Fatalf("PUT /made/in/boot1: %v %q", r.Code, r.Payload)
	}
	if r := until(t, session(t, vm, true), coap.NewRequest(coap.POST, "sys/reboot"), 30*time.Second); r.Code != coap.Changed {
		t.Fatalf("POST /sys/reboot: %v %q", r.Code, r.Payload)
	}
	boot2, err := card.WaitBoot(2, 60*time.Second)
	if err != nil {
		t.Fatalf("no second boot after /sys/reboot: %v\n%s", err, card.Console())
	}
	if b := card.Boots()[0]; b.Ended != "reboot" || !strings.Contains(b.Cmdline, "root=PARTUUID=") || !strings.Contains(b.Cmdline, "-02 ") {
		t.Errorf("boot 1: %+v", b)
	}
	s2 := session(t, boot2.VM, false)
	firstAnswer(t, boot2.VM, s2)
	if r := until(t, s2, coap.NewRequest(coap.GET, "made/in/boot1"), 10*time.Second); r.Code != coap.Content || string(r.Payload) != "first boot" {
		t.Errorf("after the reboot, GET /made/in/boot1: %v %q", r.Code, r.Payload)
	}
}

// replaceBootFile writes name onto the image's boot partition (the first) with mtools, as a
// user would from any computer.
func replaceBootFile(t *testing.T, img string, res *image.Result, name, content string) {
	t.Helper()
	mcopy, err := exec.LookPath("mcopy")
	if err != nil {
		skipOrFatal(t, "mcopy (mtools) not found: make vm-kernel installs it")
	}
	src := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	at := img + "@@" + strconv.FormatInt(res.Partitions[0].Start, 10)
	if out, err := exec.Command(mcopy, "-o", "-i", at, src, "::"+name).CombinedOutput(); err != nil {
		t.Fatalf("mcopy %s: %v %s", name, err, out)
	}
}
