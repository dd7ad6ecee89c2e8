package image

import (
	"debug/elf"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// fakeELF is a minimal 64-bit little-endian ELF shared object: a PT_INTERP program header when
// interp is set, and a .dynamic section with DT_NEEDED and DT_RUNPATH entries. debug/elf reads
// it as it reads a real program, which is all the check uses.
func fakeELF(machine elf.Machine, interp, runpath string, needed ...string) []byte {
	le := binary.LittleEndian
	var body []byte
	const ehSize, phSize, shSize = 64, 56, 64
	nph := 0
	if interp != "" {
		nph = 1
	}
	off := ehSize + nph*phSize
	interpOff := off
	body = append(body, interp+"\x00"...)
	dynstr := []byte{0}
	str := func(s string) uint64 {
		o := len(dynstr)
		dynstr = append(dynstr, s+"\x00"...)
		return uint64(o)
	}
	var dyn []byte
	for _, n := range needed {
		dyn = le.AppendUint64(le.AppendUint64(dyn, uint64(elf.DT_NEEDED)), str(n))
	}
	if runpath != "" {
		dyn = le.AppendUint64(le.AppendUint64(dyn, uint64(elf.DT_RUNPATH)), str(runpath))
	}
	dyn = le.AppendUint64(le.AppendUint64(dyn, uint64(elf.DT_NULL)), 0)
	dynstrOff := off + len(body)
	body = append(body, dynstr...)
	dynOff := off + len(body)
	body = append(body, dyn...)
	shstr := []byte("\x00.dynstr\x00.dynamic\x00.shstrtab\x00")
	shstrOff := off + len(body)
	body = append(body, shstr...)
	for len(body)%8 != 0 {
		body = append(body, 0)
	}
	shOff := off + len(body)

	h := []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), 0, 0, 0, 0, 0, 0, 0, 0, 0}
	h = le.AppendUint16(h, uint16(elf.ET_DYN))
	h = le.AppendUint16(h, uint16(machine))
	h = le.AppendUint32(h, uint32(elf.EV_CURRENT))
	h = le.AppendUint64(h, 0) // entry
	phOff := uint64(0)
	if nph > 0 {
		phOff = ehSize
	}
	h = le.AppendUint64(h, phOff)
	h = le.AppendUint64(h, uint64(shOff))
	h = le.AppendUint32(h, 0) // flags
	h = le.AppendUint16(h, ehSize)
	h = le.AppendUint16(h, phSize)
	h = le.AppendUint16(h, uint16(nph))
	h = le.AppendUint16(h, shSize)
	h = le.AppendUint16(h, 4) // sections
	h = le.AppendUint16(h, 3) // .shstrtab
	if nph > 0 {
		h = le.AppendUint32(h, uint32(elf.PT_INTERP))
		h = le.AppendUint32(h, uint32(elf.PF_R))
		for _, v := range []uint64{uint64(interpOff), 0, 0, uint64(len(interp) + 1), uint64(len(interp) + 1), 1} {
			h = le.AppendUint64(h, v)
		}
	}
	h = append(h, body...)
	section := func(name uint32, typ elf.SectionType, off, size int, link uint32, entsize uint64) {
		h = le.AppendUint32(h, name)
		h = le.AppendUint32(h, uint32(typ))
		h = le.AppendUint64(h, 0) // flags
		h = le.AppendUint64(h, 0) // addr
		h = le.AppendUint64(h, uint64(off))
		h = le.AppendUint64(h, uint64(size))
		h = le.AppendUint32(h, link)
		h = le.AppendUint32(h, 0)
		h = le.AppendUint64(h, 1)
		h = le.AppendUint64(h, entsize)
	}
	section(0, elf.SHT_NULL, 0, 0, 0, 0)
	section(1, elf.SHT_STRTAB, dynstrOff, len(dynstr), 0, 0)
	section(9, elf.SHT_DYNAMIC, dynOff, len(dyn), 1, 16)
	section(18, elf.SHT_STRTAB, shstrOff, len(shstr), 0, 0)
	return h
}

const ldSo = "/lib/ld-linux-aarch64.so.1"

// debianRoot is a root laid out as make wpa-supplicant lays it, with a second library
// directory and soname links.
func debianRoot() tree {
	t := newTree()
	arm := elf.EM_AARCH64
	t.addData("usr/sbin/wpa_supplicant", 0o755, fakeELF(arm, ldSo, "", "libnl-3.so.200", "libc.so.6"))
	t.addSymlink("lib/ld-linux-aarch64.so.1", "aarch64-linux-gnu/ld-linux-aarch64.so.1")
	t.addData("lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", 0o755, fakeELF(arm, "", ""))
	t.addSymlink("lib/aarch64-linux-gnu/libnl-3.so.200", "libnl-3.so.200.26.0")
	t.addData("lib/aarch64-linux-gnu/libnl-3.so.200.26.0", 0o644, fakeELF(arm, "", "", "libc.so.6"))
	t.addData("usr/lib/aarch64-linux-gnu/libc.so.6", 0o755, fakeELF(arm, "", "", "ld-linux-aarch64.so.1"))
	return t
}

func TestFindSupplicant(t *testing.T) {
	arm := elf.EM_AARCH64
	for _, tc := range []struct {
		name   string
		change func(tree)
		path   string   // "": none found
		libs   []string // when found
		errs   []string // what the error says
	}{
		{"debian layout", func(tree) {}, "/usr/sbin/wpa_supplicant", []string{
			"/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/libnl-3.so.200.26.0", "/usr/lib/aarch64-linux-gnu/libc.so.6"}, nil},
		{"none", func(t tree) { delete(t, "usr/sbin/wpa_supplicant") }, "", nil, nil},
		{"not executable: PATH passes it by", func(t tree) { t["usr/sbin/wpa_supplicant"].mode = 0o644 }, "", nil, nil},
		{"first in PATH order", func(t tree) {
			t.addData("usr/local/bin/wpa_supplicant", 0o755, fakeELF(arm, ldSo, "", "libc.so.6"))
		}, "/usr/local/bin/wpa_supplicant", []string{"/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", "/usr/lib/aarch64-linux-gnu/libc.so.6"}, nil},
		{"symlinked program, $ORIGIN run path", func(t tree) {
			delete(t, "usr/sbin/wpa_supplicant")
			t.addSymlink("sbin/wpa_supplicant", "/opt/wpa/bin/wpa_supplicant")
			t.addData("opt/wpa/bin/wpa_supplicant", 0o755, fakeELF(arm, ldSo, "$ORIGIN/../lib", "libwpa.so"))
			t.addData("opt/wpa/lib/libwpa.so", 0o644, fakeELF(arm, "", ""))
		}, "/sbin/wpa_supplicant", []string{"/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", "/opt/wpa/lib/libwpa.so"}, nil},
		{"the host's amd64 program", func(t tree) {
			t.addData("usr/sbin/wpa_supplicant", 0o755, fakeELF(elf.EM_X86_64, "/lib64/ld-linux-x86-64.so.2", "", "libc.so.6"))
		}, "", nil, []string{"root /usr/sbin/wpa_supplicant", "EM_X86_64", "the Pi needs arm64", "WPA_SUPPLICANT=1"}},
		{"no loader", func(t tree) { delete(t, "lib/aarch64-linux-gnu/ld-linux-aarch64.so.1") }, "", nil,
			[]string{"/usr/sbin/wpa_supplicant needs " + ldSo + ", which is not in the root"}},
		{"a library missing", func(t tree) { delete(t, "lib/aarch64-linux-gnu/libnl-3.so.200.26.0") }, "", nil,
			[]string{"/usr/sbin/wpa_supplicant needs libnl-3.so.200, which is not in any of /lib/aarch64-linux-gnu, /usr/lib/aarch64-linux-gnu, /lib, /usr/lib"}},
		{"a library's library missing", func(t tree) {
			t.addData("lib/aarch64-linux-gnu/libnl-3.so.200.26.0", 0o644, fakeELF(arm, "", "", "libm.so.6"))
		}, "", nil, []string{"/lib/aarch64-linux-gnu/libnl-3.so.200.26.0 needs libm.so.6"}},
		{"a library of another architecture", func(t tree) {
			t.addData("usr/lib/aarch64-linux-gnu/libc.so.6", 0o755, fakeELF(elf.EM_ARM, "", ""))
		}, "", nil, []string{"/usr/lib/aarch64-linux-gnu/libc.so.6 (needed by /lib/aarch64-linux-gnu/libnl-3.so.200.26.0) is built for EM_ARM"}},
		{"a library that is no ELF file", func(t tree) {
			t.addData("usr/lib/aarch64-linux-gnu/libc.so.6", 0o644, []byte("INPUT(libc.so.6.real)\n"))
		}, "", nil, []string{"/usr/lib/aarch64-linux-gnu/libc.so.6 (needed by /lib/aarch64-linux-gnu/libnl-3.so.200.26.0): not an ELF file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := debianRoot()
			tc.change(root)
			s, err := root.findSupplicant()
			if len(tc.errs) > 0 {
				if err == nil {
					t.Fatalf("no error; found %+v", s)
				}
				for _, w := range tc.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.path == "" {
				if s != nil {
					t.Fatalf("found %+v, want none", s)
				}
				return
			}
			if s == nil || s.path != tc.path || !reflect.DeepEqual(s.libs, tc.libs) {
				t.Fatalf("found %+v, want %s with %v", s, tc.path, tc.libs)
			}
		})
	}
}

func TestResolveLoop(t *testing.T) {
	root := newTree()
	root.addSymlink("a", "b")
	root.addSymlink("b", "/a")
	if _, _, err := root.resolve("a/x"); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("resolve a loop: %v", err)
	}
}
