package image

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/config"
)

// The arm64 pigw binary, compiled once per test binary.
var pigwBin struct {
	once sync.Once
	path string
	err  error
}

func pigwBinary(t *testing.T) string {
	t.Helper()
	pigwBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "pigw-image-test")
		if err != nil {
			pigwBin.err = err
			return
		}
		pigwBin.path, pigwBin.err = compilePigw(context.Background(), "..", "test", dir)
	})
	if pigwBin.err != nil {
		t.Fatal(pigwBin.err)
	}
	return pigwBin.path
}

const testSize = 900 << 20

func build(t *testing.T, o Options) string {
	t.Helper()
	o.Pigw, o.ModuleRoot, o.Size = pigwBinary(t), "..", testSize
	if o.Out == "" {
		o.Out = filepath.Join(t.TempDir(), "pigw-rpi.img")
	}
	if _, err := Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o.Out
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}

// extract copies partition n of img into a file of its own.
func extract(t *testing.T, img string, start, size int64) string {
	t.Helper()
	in, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "part")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.NewSectionReader(in, start, size)); err != nil {
		t.Fatal(err)
	}
	return out
}

type sfdiskTable struct {
	PartitionTable struct {
		ID         string
		Partitions []struct {
			Start, Size int64
			Type        string
			Bootable    bool
		}
	}
}

func TestImageStructure(t *testing.T) {
	need(t, "sfdisk", "mtype", "mdir", "unsquashfs", "e2fsck", "debugfs")
	img := build(t, Options{})
	var tab sfdiskTable
	if err := json.Unmarshal([]byte(run(t, "sfdisk", "--json", img)), &tab); err != nil {
		t.Fatal(err)
	}
	pt := tab.PartitionTable
	if len(pt.Partitions) != 4 {
		t.Fatalf("sfdisk: %d partitions, want 4", len(pt.Partitions))
	}
	want := []struct {
		typ      string
		bootable bool
	}{{"c", true}, {"83", false}, {"83", false}, {"83", false}}
	var end int64
	for i, p := range pt.Partitions {
		if p.Type != want[i].typ || p.Bootable != want[i].bootable || p.Start*512%align != 0 || p.Size*512%align != 0 || p.Start < end {
			t.Errorf("partition %d: %+v, want type %s bootable %v, 4 MiB aligned, after the one before", i+1, p, want[i].typ, want[i].bootable)
		}
		end = p.Start + p.Size
	}
	if end*512 != testSize {
		t.Errorf("partitions end at %d, want %d", end*512, testSize)
	}
	diskID := strings.TrimPrefix(pt.ID, "0x")
	at := func(i int) (int64, int64) { return pt.Partitions[i].Start * 512, pt.Partitions[i].Size * 512 }

	fat := img + "@@" + strconv.FormatInt(pt.Partitions[0].Start*512, 10)
	dir := run(t, "mdir", "-i", fat, "-b", "::/")
	for _, f := range []string{"bootcode.bin", "start4.elf", "fixup4.dat", "vmlinuz", "bcm2711-rpi-4-b.dtb", "bcm2710-rpi-3-b-plus.dtb", "config.txt", "cmdline.txt", "pigw.yaml", "pigw.schema.json", "overlays/"} {
		if !strings.Contains(dir, "::/"+f) {
			t.Errorf("boot partition: no %s in\n%s", f, dir)
		}
	}
	if out := run(t, "mdir", "-i", fat, "-b", "::/overlays"); !strings.Contains(out, "w1-gpio.dtbo") {
		t.Errorf("boot partition: no overlays/w1-gpio.dtbo")
	}
	if out := run(t, "mdir", "-i", fat, "::/"); !strings.Contains(out, "PIGWBOOT") {
		t.Errorf("boot partition: not labelled PIGWBOOT:\n%s", out)
	}
	cmdline := run(t, "mtype", "-i", fat, "::/cmdline.txt")
	if !strings.Contains(cmdline, "root=PARTUUID="+diskID+"-02 ") || !strings.Contains(cmdline, "init=/pigw") {
		t.Errorf("cmdline.txt %q: want root=PARTUUID=%s-02 and init=/pigw", cmdline, diskID)
	}
	txt := run(t, "mtype", "-i", fat, "::/config.txt")
	for _, l := range []string{"arm_64bit=1", "kernel=vmlinuz", "enable_uart=1"} {
		if !strings.Contains(txt, l+"\n") {
			t.Errorf("config.txt: no %s in\n%s", l, txt)
		}
	}
	y := run(t, "mtype", "-i", fat, "::/pigw.yaml")
	if y != starterConfig {
		t.Errorf("pigw.yaml is not the starter file:\n%s", y)
	}
	if first, _, _ := strings.Cut(y, "\n"); first != "# yaml-language-server: $schema=pigw.schema.json" {
		t.Errorf("pigw.yaml begins with %q, not the YAML language server's modeline", first)
	}
	schema := run(t, "mtype", "-i", fat, "::/pigw.schema.json")
	var doc struct {
		Schema     string         `json:"$schema"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(schema), &doc); err != nil || doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.Properties["coap"] == nil {
		t.Errorf("pigw.schema.json is no JSON Schema 2020-12 of pigw.yaml (%v): %.200s", err, schema)
	}
	if schema != string(config.Schema()) {
		t.Errorf("pigw.schema.json on the card is not pigw config schema's")
	}

	start, size := at(1)
	sq := extract(t, img, start, size)
	list := run(t, "unsquashfs", "-lln", sq)
	for _, l := range []string{"-rwxr-xr-x 0/0", "squashfs-root/pigw\n", "squashfs-root/etc/resolv.conf -> /tmp/resolv.conf",
		"modules.dep", "brcmfmac.ko", "brcmutil.ko", "squashfs-root/perm\n", "squashfs-root/proc\n", "squashfs-root/boot\n"} {
		if !strings.Contains(list, l) {
			t.Errorf("root squashfs: no %q in\n%s", l, list)
		}
	}
	out := filepath.Join(t.TempDir(), "root")
	run(t, "unsquashfs", "-no-xattrs", "-d", out, sq)
	checkStaticARM64(t, filepath.Join(out, "pigw"))
	etc, err := os.ReadFile(filepath.Join(out, "etc", "pigw.yaml"))
	if err != nil || !strings.Contains(string(etc), "brcmfmac") {
		t.Errorf("/etc/pigw.yaml: %v\n%s", err, etc)
	}

	start, size = at(2)
	rootB := extract(t, img, start, size)
	if b := run(t, "unsquashfs", "-lln", rootB); b != list {
		t.Errorf("root B lists\n%s\nwant root A's\n%s", b, list)
	}

	start, size = at(3)
	perm := extract(t, img, start, size)
	run(t, "e2fsck", "-fn", perm)
	if stats := run(t, "debugfs", "-R", "stats", perm); !strings.Contains(stats, "Filesystem volume name:   perm\n") {
		t.Errorf("/perm: not labelled perm:\n%s", stats)
	}
}

func checkStaticARM64(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("/pigw: machine %v, want EM_AARCH64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("/pigw: has PT_INTERP, want a static binary")
		}
	}
}

func sum(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestReproducible(t *testing.T) {
	a := build(t, Options{})
	time.Sleep(2100 * time.Millisecond) // past FAT's two-second clock
	b := build(t, Options{})
	if sum(t, a) != sum(t, b) {
		t.Error("two builds from the same inputs differ")
	}
}
