package flash

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeDev is one block device in a fake sysfs tree.
type fakeDev struct {
	name, dev string // "sda1", "8:1"
	disk      string // for a partition, its disk
	sectors   string // the size attribute, "" for "1000"
	ro        bool
	slaves    []string // for a dm or md device
	vendor    string
	model     string
}

// fakeSysfs builds a sysfs tree the way the kernel lays it out: devices under
// devices/.../block, a partition's directory inside its disk's, class/block holding links.
func fakeSysfs(t *testing.T, devs []fakeDev) string {
	t.Helper()
	root := t.TempDir()
	class := filepath.Join(root, "class", "block")
	write := func(p, v string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range devs {
		dir := filepath.Join(root, "devices", "virtual", "block", d.name)
		if d.disk != "" {
			dir = filepath.Join(root, "devices", "virtual", "block", d.disk, d.name)
			write(filepath.Join(dir, "partition"), "1")
		}
		write(filepath.Join(dir, "dev"), d.dev)
		write(filepath.Join(dir, "size"), cmpOr(d.sectors, "1000"))
		write(filepath.Join(dir, "ro"), map[bool]string{false: "0", true: "1"}[d.ro])
		if d.vendor != "" {
			write(filepath.Join(dir, "device", "vendor"), d.vendor)
		}
		if d.model != "" {
			write(filepath.Join(dir, "device", "model"), d.model)
		}
		for _, s := range d.slaves {
			if err := os.MkdirAll(filepath.Join(dir, "slaves", s), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(class, 0o755); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(class, dir)
		if err := os.Symlink(rel, filepath.Join(class, d.name)); err != nil {
			t.Fatal(err)
		}
	}
	// A slave's holders/ names the device built on it.
	for _, d := range devs {
		for _, s := range d.slaves {
			if err := os.MkdirAll(filepath.Join(class, s, "holders", d.name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// A laptop: root on an NVMe partition, swap on LVM over another, and a card reader with a
// two-partition card, one partition mounted under a name with a space.
var laptop = []fakeDev{
	{name: "nvme0n1", dev: "259:0"},
	{name: "nvme0n1p1", dev: "259:1", disk: "nvme0n1"},
	{name: "nvme0n1p2", dev: "259:2", disk: "nvme0n1"},
	{name: "dm-0", dev: "254:0", slaves: []string{"nvme0n1p2"}},
	{name: "sdb", dev: "8:16", sectors: "62333952", vendor: "Generic-", model: "SD/MMC"},
	{name: "sdb1", dev: "8:17", disk: "sdb"},
	{name: "sdb2", dev: "8:18", disk: "sdb"},
	{name: "sdc", dev: "8:32", ro: true, vendor: "SanDisk", model: "SanDisk Ultra"},
	{name: "sdd", dev: "8:48", sectors: "0"},
	{name: "sde", dev: "8:64"},
	{name: "sde1", dev: "8:65", disk: "sde"},
	{name: "md0", dev: "9:0", slaves: []string{"sde1"}},
}

const laptopMounts = `22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw
23 22 0:21 / /proc rw - proc proc rw
24 22 0:45 / /run rw shared:5 - tmpfs tmpfs rw
`

func TestInspectFakeSysfs(t *testing.T) {
	sys := fakeSysfs(t, laptop)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	swapsHeader := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	for _, tc := range []struct {
		name, dev, mounts, swaps string
		want                     string // in the refusal; "" for none
		model                    string
		size                     int64
	}{
		{name: "card", dev: "8:16", model: "Generic- SD/MMC", size: 62333952 * 512},
		{name: "root disk", dev: "259:0", want: "root file system (/ is on /dev/nvme0n1p1)"},
		{name: "root partition", dev: "259:1", want: "root file system"},
		{name: "other partition of the root disk", dev: "259:2", want: "root file system"},
		{name: "root by source when btrfs hides the numbers", dev: "8:16",
			mounts: "30 1 0:33 / / rw - btrfs /dev/sdb2 rw\n", want: "root file system (/ is on /dev/sdb2)"},
		{name: "root on a later mount hides an earlier", dev: "8:16",
			mounts: laptopMounts + "40 22 8:17 / / rw - ext4 /dev/sdb1 rw\n", want: "root file system (/ is on /dev/sdb1)"},
		{name: "overlay root", dev: "8:16", mounts: "1 0 0:40 / / rw - overlay overlay rw\n",
			model: "Generic- SD/MMC", size: 62333952 * 512},
		{name: "device-mapper on a partition", dev: "259:0", mounts: "1 0 0:40 / / rw - overlay overlay rw\n",
			want: "in use by dm-0"},
		{name: "swap partition", dev: "8:16", mounts: "1 0 0:40 / / rw - overlay overlay rw\n",
			swaps: swapsHeader + "/dev/sdb2                               partition\t8388604\t\t0\t\t-2\n",
			want:  "active swap /dev/sdb2"},
		{name: "swap through dm", dev: "259:0", mounts: "1 0 0:40 / / rw - overlay overlay rw\n",
			swaps: swapsHeader + "/dev/dm-0 partition 8388604 0 -2\n", want: "active swap /dev/dm-0"},
		{name: "partition mounted", dev: "8:16",
			mounts: laptopMounts + `50 24 8:18 / /media/my\040card rw shared:9 - vfat /dev/sdb2 rw` + "\n",
			want:   "/dev/sdb2 is mounted on /media/my card (unmount it first)"},
		{name: "disk itself mounted", dev: "8:16", mounts: laptopMounts + "50 24 8:16 / /mnt rw - ext4 /dev/sdb rw\n",
			want: "it is mounted on /mnt"},
		{name: "mounted partition checked when writing a partition", dev: "8:17",
			mounts: laptopMounts + "50 24 8:18 / /mnt rw - ext4 /dev/sdb2 rw\n", want: "/dev/sdb2 is mounted on /mnt"},
		{name: "other disk mounted", dev: "8:16", mounts: laptopMounts + "50 24 8:64 / /mnt rw - ext4 /dev/sde rw\n",
			model: "Generic- SD/MMC", size: 62333952 * 512},
		{name: "RAID member", dev: "8:64", want: "in use by md0"},
		{name: "read-only", dev: "8:32", want: "read-only"},
		{name: "no medium", dev: "8:48", want: "no medium"},
		{name: "unknown numbers", dev: "8:80", want: "not in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Host{Sys: sys, MountInfo: file("mountinfo", cmpOr(tc.mounts, laptopMounts)),
				Swaps: file("swaps", cmpOr(tc.swaps, swapsHeader))}
			got, err := h.inspectBlock("/dev/x", tc.dev)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("inspect: %v", err)
				}
				if got.Model != tc.model || got.Size != tc.size || !got.Block {
					t.Errorf("got %+v, want model %q size %d", got, tc.model, tc.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			var re *RefusedError
			if tc.want != "not in" && (!errors.As(err, &re) || re.Device != "/dev/x") {
				t.Errorf("error %v is not a refusal of /dev/x", err)
			}
		})
	}
}

func TestDisks(t *testing.T) {
	s, err := readSysfs(fakeSysfs(t, laptop))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{"sdb", "sdb"}, {"sdb2", "sdb"}, {"nvme0n1p2", "nvme0n1"}, {"dm-0", "nvme0n1"}, {"md0", "sde"},
	} {
		got, err := s.disks(tc.name)
		if err != nil || !slices.Equal(got, []string{tc.want}) {
			t.Errorf("disks(%s) = %v, %v; want [%s]", tc.name, got, err, tc.want)
		}
	}
	if m := s.model("sdc"); m != "SanDisk Ultra" {
		t.Errorf("model(sdc) = %q, want the vendor left out of a model that repeats it", m)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`/media/a\040b`: "/media/a b", `/x\134y`: `/x\y`, `/plain`: "/plain", `/end\04`: `/end\04`, `\011`: "\t",
	} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}
