package fat32

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pigw/pigw/internal/fuzzcheck"
)

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found (apt-get install mtools, or make test-deps)", tool)
			}
			t.Skipf("%s not found (apt-get install mtools)", tool)
		}
	}
}

func mtools(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fragmented makes a FAT32 image with 512-byte clusters, as a PC leaves it: long names, a
// deleted file, and cmdline.txt in a hole and beyond, so that its clusters are not contiguous.
func fragmented(t *testing.T, cmdline []byte) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "boot.img")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 40<<20); err != nil {
		t.Fatal(err)
	}
	mtools(t, "mformat", "-i", img, "-F", "-T", "81920", "-c", "1", "::")
	mtools(t, "mcopy", "-i", img, write("x.txt", []byte("one cluster")), "::x.txt")
	mtools(t, "mcopy", "-i", img, write("long", bytes.Repeat([]byte("L"), 3000)), "::a long file name.bin")
	mtools(t, "mcopy", "-i", img, write("y.txt", []byte("y")), "::y.txt")
	mtools(t, "mdel", "-i", img, "::x.txt")
	mtools(t, "mcopy", "-i", img, write("cmdline.txt", cmdline), "::cmdline.txt")
	moveSecondCluster(t, img, "cmdline.txt")
	return img
}

// openImage opens the file system of the image file img for reading and writing, until the
// test ends.
func openImage(t *testing.T, img string) (*FS, *os.File) {
	t.Helper()
	dev, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	fs, err := Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	return fs, dev
}

// moveSecondCluster moves a file's second cluster far out, rewriting the FAT around it, as a
// file system that has seen use may place it. mtools itself allocates in order.
func moveSecondCluster(t *testing.T, img, name string) {
	t.Helper()
	fs, dev := openImage(t, img)
	f, err := fs.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.clusters) < 3 {
		return
	}
	old, to := f.clusters[1], fs.clusters-10
	data := make([]byte, fs.clusterSize)
	entry := func(c, v uint32) {
		var e [4]byte
		binary.LittleEndian.PutUint32(e[:], v)
		for _, fat := range []int64{fs.fatOffset, fs.fatOffset + (fs.dataOffset-fs.fatOffset)/2} { // both FATs
			if _, err := dev.WriteAt(e[:], fat+int64(c)*4); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := dev.ReadAt(data, fs.clusterOffset(old)); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.WriteAt(data, fs.clusterOffset(to)); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.WriteAt(make([]byte, fs.clusterSize), fs.clusterOffset(old)); err != nil {
		t.Fatal(err)
	}
	entry(f.clusters[0], to)
	entry(to, f.clusters[2])
	entry(old, 0)
}

func TestFragmentedFileInPlace(t *testing.T) {
	need(t, "mformat", "mcopy", "mdel", "mtype")
	cmdline := []byte(strings.Repeat("console=serial0,115200 ", 50) + "root=PARTUUID=1234abcd-02 init=/pigw\n")
	img := fragmented(t, cmdline)
	fs, _ := openImage(t, img)
	f, err := fs.Lookup("CMDLINE.TXT")
	if err != nil {
		t.Fatal(err)
	}
	contiguous := true
	for i := 1; i < len(f.clusters); i++ {
		contiguous = contiguous && f.clusters[i] == f.clusters[i-1]+1
	}
	if contiguous {
		t.Fatalf("cmdline.txt in clusters %v: the test meant them fragmented", f.clusters)
	}
	got, err := f.ReadAll()
	if err != nil || !bytes.Equal(got, cmdline) {
		t.Fatalf("ReadAll: %v, %d bytes, equal %v", err, len(got), bytes.Equal(got, cmdline))
	}
	// A write across a cluster boundary, and the root= flip.
	i := bytes.Index(cmdline, []byte("-02"))
	want := append([]byte(nil), cmdline...)
	copy(want[510:], "XYZW")
	want[i+2] = '3'
	if err := f.WriteAt([]byte("XYZW"), 510); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteAt([]byte("3"), int64(i+2)); err != nil {
		t.Fatal(err)
	}
	if got := mtools(t, "mtype", "-i", img, "::cmdline.txt"); got != string(want) {
		t.Errorf("mtools reads %q\nwant %q", got, want)
	}
	if err := f.WriteAt([]byte("xx"), f.Size-1); err == nil {
		t.Error("a write past the end was taken")
	}
	if got := mtools(t, "mtype", "-i", img, "::a long file name.bin"); got != strings.Repeat("L", 3000) {
		t.Error("the other file changed")
	}
}

func TestLookupErrors(t *testing.T) {
	need(t, "mformat", "mcopy", "mdel", "mtype")
	img := fragmented(t, []byte("root=x\n"))
	dev, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	fs, err := Open(readOnly{dev})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{"x.txt", "not in the root directory"},      // deleted
		{"trycmd.txt", "not in the root directory"}, // never there
		{"a long file name", "not in the root directory"},
		{"AVERYL~1.BIN", "not in the root directory"},
	} {
		if _, err := fs.Lookup(tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Lookup(%q): %v, want %q", tc.name, err, tc.want)
		}
	}
	// A long name, in another case; and the short name mtools gave it.
	for _, n := range []string{"A Long File Name.BIN", "ALONGF~1.BIN"} {
		f, err := fs.Lookup(n)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", n, err)
		}
		if b, err := f.ReadAll(); err != nil || string(b) != strings.Repeat("L", 3000) {
			t.Errorf("%s: %v, %d bytes", n, err, len(b))
		}
	}
	if _, err := Open(readOnly{bytes.NewReader(make([]byte, 4096))}); err == nil || !strings.Contains(err.Error(), "no 55 AA") {
		t.Errorf("Open of zeros: %v", err)
	}
}

type readOnly struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
}

func (r readOnly) ReadAt(b []byte, off int64) (int, error) { return r.r.ReadAt(b, off) }
func (readOnly) WriteAt([]byte, int64) (int, error)        { return 0, os.ErrPermission }

// FuzzLookup: any boot sector and first FAT and directory bytes (the rest of a 4 MiB device
// zeros) open or fail, look up or fail, without a panic and in bounded memory.
func FuzzLookup(f *testing.F) {
	bs := make([]byte, 512)
	binary.LittleEndian.PutUint16(bs[11:], 512)
	bs[13], bs[16] = 1, 2
	binary.LittleEndian.PutUint16(bs[14:], 32)
	binary.LittleEndian.PutUint32(bs[32:], 8192)
	binary.LittleEndian.PutUint32(bs[36:], 64)
	binary.LittleEndian.PutUint32(bs[44:], 2)
	bs[510], bs[511] = 0x55, 0xaa
	f.Add(bs, []byte("CMDLINE TXT\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, boot, dir []byte) {
		dev := make([]byte, 4<<20)
		copy(dev, boot)
		copy(dev[(32+2*64)*512:], dir) // where the seed's root directory starts
		fuzzcheck.Bounded(t, len(boot)+len(dir), 64, func() {
			fs, err := Open(memDevice(dev))
			if err != nil {
				return
			}
			if f, err := fs.Lookup("cmdline.txt"); err == nil {
				_, _ = f.ReadAll()
				_ = f.WriteAt([]byte("x"), 0)
			}
		})
	})
}

type memDevice []byte

func (m memDevice) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(b, m[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (m memDevice) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > int64(len(m)) {
		return 0, io.ErrShortWrite
	}
	return copy(m[off:], b), nil
}
