package mbr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pigw is the table of a 1 GiB pigw image: boot, root A, root B, /perm.
var pigw = Table{DiskID: 0x1234abcd, Partitions: [4]Partition{
	{Type: TypeFAT32LBA, Bootable: true, Start: 8192, Sectors: 524288},
	{Type: TypeLinux, Start: 532480, Sectors: 524288},
	{Type: TypeLinux, Start: 1056768, Sectors: 524288},
	{Type: TypeLinux, Start: 1581056, Sectors: 516096},
}}

func TestRoundTrip(t *testing.T) {
	b := make([]byte, SectorSize)
	for i := range 440 {
		b[i] = byte(i) // boot code, which Put must leave alone
	}
	if err := pigw.Put(b); err != nil {
		t.Fatal(err)
	}
	for i := range 440 {
		if b[i] != byte(i) {
			t.Fatalf("Put changed byte %d of the boot code", i)
		}
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != pigw {
		t.Errorf("Parse(Put(t)) = %+v, want %+v", got, pigw)
	}
}

// TestSfdisk: sfdisk, an independent reader, sees the table Put writes.
func TestSfdisk(t *testing.T) {
	if _, err := exec.LookPath("sfdisk"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sfdisk not found: make test installs fdisk")
		}
		t.Skip("sfdisk not found: make test installs fdisk")
	}
	b := make([]byte, SectorSize)
	if err := pigw.Put(b); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "disk")
	if err := os.WriteFile(disk, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 1<<30); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sfdisk", "--json", disk).Output()
	if err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	var tab struct {
		PartitionTable struct {
			ID         string
			Partitions []struct {
				Start, Size uint32
				Type        string
				Bootable    bool
			}
		}
	}
	if err := json.Unmarshal(out, &tab); err != nil {
		t.Fatal(err)
	}
	if tab.PartitionTable.ID != "0x1234abcd" || len(tab.PartitionTable.Partitions) != 4 {
		t.Fatalf("sfdisk: %s", out)
	}
	for i, p := range tab.PartitionTable.Partitions {
		w := pigw.Partitions[i]
		if p.Start != w.Start || p.Size != w.Sectors || p.Bootable != w.Bootable || p.Type != fmt.Sprintf("%x", w.Type) {
			t.Errorf("sfdisk partition %d: %+v, want %+v", i+1, p, w)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := make([]byte, SectorSize)
	if err := pigw.Put(good); err != nil {
		t.Fatal(err)
	}
	noSig := bytes.Clone(good)
	noSig[511] = 0
	badStatus := bytes.Clone(good)
	badStatus[446+16] = 0x12
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", good[:100], "100 bytes"},
		{"no signature", noSig, "no partition table"},
		{"status", badStatus, "entry 2 has status 0x12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestPutLimits(t *testing.T) {
	tab := pigw
	tab.Partitions[3].Sectors = MaxSectors - tab.Partitions[3].Start + 1
	if err := tab.Put(make([]byte, SectorSize)); err == nil || !strings.Contains(err.Error(), "partition 4 ends at sector 4294967296") {
		t.Errorf("Put of a partition past 2 TiB: %v", err)
	}
	tab.Partitions[3].Sectors--
	if err := tab.Put(make([]byte, SectorSize)); err != nil {
		t.Errorf("Put of a partition ending at 2 TiB: %v", err)
	}
	if err := pigw.Put(make([]byte, 511)); err == nil {
		t.Error("Put into 511 bytes: no error")
	}
}

func TestCHS(t *testing.T) {
	for _, tc := range []struct {
		lba  uint32
		want []byte
	}{
		{0, []byte{0, 1, 0}},
		{62, []byte{0, 63, 0}},
		{63, []byte{1, 1, 0}},
		{8192, []byte{130, 3, 0}},                   // 4 MiB: cylinder 0, head 130, sector 3
		{255 * 63 * 1023, []byte{0, 0xc1, 0xff}},    // cylinder 1023: its top bits in the sector byte
		{255 * 63 * 1024, []byte{0xfe, 0xff, 0xff}}, // beyond reach
	} {
		if got := chs(tc.lba); !bytes.Equal(got, tc.want) {
			t.Errorf("chs(%d) = % x, want % x", tc.lba, got, tc.want)
		}
	}
}
