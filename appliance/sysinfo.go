package appliance

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/pigw/pigw/appliance/web"
	"golang.org/x/sys/unix"
)

// What the appliance says of the machine, for /sys/info and the status page alike.

// sysFacts are the machine's name, board and kernel.
type sysFacts struct {
	Hostname, Board, Kernel string
}

func readSysFacts() sysFacts {
	host, _ := os.Hostname()
	var u unix.Utsname
	_ = unix.Uname(&u)
	return sysFacts{Hostname: host, Board: boardModel(),
		Kernel: unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])}
}

// boardModel names the hardware: the device tree's model on a Pi, DMI on a PC or VM.
func boardModel() string {
	return firstText("/proc/device-tree/model", "/sys/firmware/devicetree/base/model", "/sys/class/dmi/id/product_name")
}

// boardSerial is the serial number the firmware wrote into the device tree, or "unknown".
func boardSerial() string {
	return firstText("/proc/device-tree/serial-number", "/sys/firmware/devicetree/base/serial-number")
}

// firstText is the text of the first of files that holds any (a device tree's strings end in
// NUL), or "unknown".
func firstText(files ...string) string {
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			if m := strings.TrimSpace(strings.TrimRight(string(b), "\x00")); m != "" {
				return m
			}
		}
	}
	return "unknown"
}

// readMemory is the machine's memory (/proc/meminfo) and what the Go runtime holds of it.
func readMemory() web.Memory {
	var m web.Memory
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.TotalBytes, m.AvailableBytes = meminfo(b, "MemTotal:"), meminfo(b, "MemAvailable:")
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		m.GoBytes = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		m.GoHeapBytes = s[1].Value.Uint64()
	}
	return m
}

// meminfo reads one "Key:   123 kB" line of /proc/meminfo, in bytes; 0 when it is not there.
func meminfo(b []byte, key string) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == key {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			if len(f) == 3 && f[2] == "kB" {
				n *= 1024
			}
			return n
		}
	}
	return 0
}

// readStorage is the use of the file system dir is on (the state directory: /perm/pigw on the
// Pi), or nil without one.
func readStorage(dir string) *web.Storage {
	if dir == "" {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return nil
	}
	bs := uint64(st.Bsize)
	return &web.Storage{Path: dir, TotalBytes: st.Blocks * bs, FreeBytes: st.Bavail * bs}
}
