package vmtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

// growDisk is the disk the image is written to in TestImagePermGrows: 32 times the image,
// sparse, as a 32 GB card would be. /perm grows from 252 MiB to 31996 MiB, 250 block
// groups: more than one block of group descriptors holds (128), so the kernel converts /perm
// to meta_bg on the way (it has no resize inode).
const growDisk = 32 << 30

// cardPace throttles the guest's writes to 24 MiB/s, an SD card's pace, in the boot that is
// cut: the kernel's resize then takes about 20 s (it writes 480 MiB of zeroed inode tables),
// commits the first groups to the journal after 5 s and says how far it got after 10 s,
// which is when the test cuts it.
const cardPace = "throttling.bps-write=25165824"

// TestImagePermGrows: the image, booted once on a disk of its own size (nothing grows, a
// resource is created by PUT) and then written to a larger disk, grows /perm to the end of
// that disk. The first boot there is cut (QEMU killed) while the kernel grows the
// filesystem; the next one mounts /perm again after its journal replay changed its size,
// finishes growing it, and serves the resource; the host's sfdisk, e2fsck and dumpe2fs then
// find partition 4 reaching the end of the disk and /perm clean, meta_bg, and as large as
// its partition. A last boot does not grow it again.
func TestImagePermGrows(t *testing.T) {
	sfdisk, e2fsck, dumpe2fs := hostTool(t, "sfdisk"), hostTool(t, "e2fsck"), hostTool(t, "dumpe2fs")
	img, res := builtImage(t)
	replaceBootFile(t, img, res, "pigw.yaml", editedConfig)
	perm := res.Partitions[3]
	wantBlocks := (growDisk - perm.Start) / 4096

	// Boot 1, on a disk of the image's size: nothing grows; a resource is written.
	vm := StartImage(t, ImageOptions{Image: img, ForwardUDP: []int{5683, 5684}})
	s := session(t, vm, false)
	firstAnswer(t, vm, s)
	waitFor(t, vm, `msg="boot done"`, 10*time.Second)
	if pigwLogShows(vm, "growing /perm") {
		t.Errorf("/perm grows on a disk of the image's size")
	}
	put := coap.NewRequest(coap.PUT, "made/before/growth")
	put.Payload = []byte("small /perm")
	if r := until(t, s, put, 10*time.Second); r.Code.String() != "2.01" {
		t.Fatalf("PUT /made/before/growth: %v %q", r.Code, r.Payload)
	}
	rebootImage(t, vm)

	// Boot 2, on the larger disk: cut while the filesystem grows.
	if err := os.Truncate(img, growDisk); err != nil {
		t.Fatal(err)
	}
	vm = StartImage(t, ImageOptions{Image: img, ForwardUDP: []int{5683}, DriveOptions: cardPace})
	growing := waitFor(t, vm, `msg="growing /perm" .*`, 120*time.Second)
	t.Logf("boot 2: %s", growing)
	want := fmt.Sprintf(`msg="growing /perm" device=/dev/vda4 from=%dMiB to=%dMiB`, perm.Size>>20, (growDisk-perm.Start)>>20)
	if !strings.Contains(growing, want) {
		t.Errorf("boot 2 logs %s, want %s", growing, want)
	}
	t.Logf("boot 2: %s; cut", waitFor(t, vm, `EXT4-fs \(vda4\): resized to \d+ blocks`, 120*time.Second))
	vm.Kill()
	t.Logf("the cut left partition 4 with %d sectors, /perm's superblock with %d blocks (its journal may hold more)",
		partitionSectors(t, sfdisk, img, 4), blockCount(t, dumpe2fs, img, perm.Start))

	// Boot 3 finishes.
	vm = StartImage(t, ImageOptions{Image: img, ForwardUDP: []int{5683, 5684}})
	s = session(t, vm, false)
	firstAnswer(t, vm, s)
	resumed := waitFor(t, vm, `msg="growing /perm" .*`, 10*time.Second)
	t.Logf("boot 3: %s", resumed)
	switch again := pigwLogShows(vm, "mounted /perm again"); {
	case again:
		t.Log("boot 3: the journal replay changed /perm's size; /perm was mounted again before growing")
	case !strings.Contains(resumed, fmt.Sprintf("from=%dMiB ", perm.Size>>20)):
		t.Errorf("boot 3 resumes from a replayed size without mounting /perm again first")
	}
	end := waitFor(t, vm, `msg="/perm (not )?grown.*|kernel BUG at .*`, 300*time.Second)
	if !strings.Contains(end, `msg="/perm grown"`) {
		t.Fatalf("boot 3: %s", end)
	}
	t.Logf("boot 3: %s (%v after QEMU started)", end, vm.Since().Round(100*time.Millisecond))
	if r := until(t, s, coap.NewRequest(coap.GET, "made/before/growth"), 10*time.Second); r.Code != coap.Content || string(r.Payload) != "small /perm" {
		t.Errorf("GET /made/before/growth after growing: %v %q", r.Code, r.Payload)
	}
	rebootImage(t, vm)

	if got, want := partitionSectors(t, sfdisk, img, 4), (growDisk-perm.Start)/512; got != want {
		t.Errorf("sfdisk: partition 4 has %d sectors, want %d (to the end of the disk)", got, want)
	}
	at := fmt.Sprintf("%s?offset=%d", img, perm.Start)
	if out, err := exec.Command(e2fsck, "-fn", at).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn /perm: %v\n%s", err, out)
	}
	if got := blockCount(t, dumpe2fs, img, perm.Start); got != wantBlocks {
		t.Errorf("/perm has %d blocks, want %d (its whole partition)", got, wantBlocks)
	}
	if head, _ := exec.Command(dumpe2fs, "-h", at).Output(); !strings.Contains(string(head), " meta_bg") {
		t.Errorf("/perm's features lack meta_bg:\n%s", head)
	}

	// Boot 4: nothing left to grow.
	vm = StartImage(t, ImageOptions{Image: img, ForwardUDP: []int{5683}})
	s = session(t, vm, false)
	firstAnswer(t, vm, s)
	waitFor(t, vm, `msg="boot done"`, 10*time.Second)
	if pigwLogShows(vm, "growing /perm") {
		t.Errorf("boot 4 grows /perm again")
	}
	if r := until(t, s, coap.NewRequest(coap.GET, "made/before/growth"), 10*time.Second); r.Code != coap.Content || string(r.Payload) != "small /perm" {
		t.Errorf("GET /made/before/growth in boot 4: %v %q", r.Code, r.Payload)
	}
}

// rebootImage asks the guest to reboot over DTLS (editedConfig's admin) and waits for QEMU
// to exit: a clean stop, /perm unmounted.
func rebootImage(t *testing.T, vm *VM) {
	t.Helper()
	if r := until(t, session(t, vm, true), coap.NewRequest(coap.POST, "sys/reboot"), 30*time.Second); r.Code != coap.Changed {
		t.Fatalf("POST /sys/reboot: %v %q", r.Code, r.Payload)
	}
	if err := vm.Wait(120 * time.Second); err != nil { // -no-reboot: QEMU exits where the Pi would reboot
		t.Fatalf("QEMU did not stop after /sys/reboot: %v", err)
	}
}

// partitionSectors reads partition n's size from the image's table with sfdisk.
func partitionSectors(t *testing.T, sfdisk, img string, n int) int64 {
	t.Helper()
	out, err := exec.Command(sfdisk, "--json", img).Output()
	if err != nil {
		t.Fatalf("sfdisk --json %s: %v", img, err)
	}
	var tab struct {
		PartitionTable struct{ Partitions []struct{ Size int64 } }
	}
	if err := json.Unmarshal(out, &tab); err != nil || len(tab.PartitionTable.Partitions) < n {
		t.Fatalf("sfdisk --json: %v\n%s", err, out)
	}
	return tab.PartitionTable.Partitions[n-1].Size
}

var blockCountRE = regexp.MustCompile(`(?m)^Block count:\s+(\d+)$`)

// blockCount reads the block count of the ext4 at offset in img with dumpe2fs.
func blockCount(t *testing.T, dumpe2fs, img string, offset int64) int64 {
	t.Helper()
	out, err := exec.Command(dumpe2fs, "-h", fmt.Sprintf("%s?offset=%d", img, offset)).CombinedOutput()
	m := blockCountRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("dumpe2fs -h: %v\n%s", err, out)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}
