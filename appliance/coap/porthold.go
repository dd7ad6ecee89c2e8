package coap

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// portHolder names another process's socket that already serves ap: the same port, an
// address equal to ap's or the wildcard on either side, not bound to a group, not connected.
// It returns "" when there is none. Sockets of this process do not count (a server restarted
// by the supervisor, tests with many servers).
func portHolder(ap netip.AddrPort) (string, error) {
	socks, err := readUDPTable(ap.Addr().Is6() && !ap.Addr().Is4In6())
	if err != nil {
		return "", err
	}
	own := socketInodes("/proc/self/fd")
	want := ap.Addr().Unmap()
	for _, s := range socks {
		a := s.local.Addr()
		switch {
		case s.local.Port() != ap.Port() || s.connected || a.IsMulticast() || own[s.inode]:
			continue
		case a == want || a.IsUnspecified() || want.IsUnspecified():
			return describeHolder(s), nil
		}
	}
	return "", nil
}

// readUDPTable reads the UDP table of the network namespace of the calling thread, where the
// sockets it is about to make will live. /proc/net is the namespace of the process's first
// thread instead, which need not be the same: a thread locked into another namespace that
// ends on Go's main thread keeps that thread (and /proc/net) there.
func readUDPTable(v6 bool) ([]udpSocket, error) {
	table := "/proc/thread-self/net/udp"
	if v6 {
		table += "6"
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f, err := os.Open(table)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	socks, err := parseUDPTable(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return socks, nil
}

// udpSocket is one line of /proc/net/udp or /proc/net/udp6.
type udpSocket struct {
	local     netip.AddrPort
	connected bool
	inode     uint64
}

// parseUDPTable reads /proc/net/udp{,6}: "sl local_address rem_address st ... inode", the
// addresses in hex as the kernel holds them (each 32-bit word in host order), the port in hex.
func parseUDPTable(r io.Reader) ([]udpSocket, error) {
	var out []udpSocket
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		local, err := parseProcAddr(f[1])
		if err != nil {
			return nil, fmt.Errorf("local address %q: %w", f[1], err)
		}
		remote, err := parseProcAddr(f[2])
		if err != nil {
			return nil, fmt.Errorf("remote address %q: %w", f[2], err)
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("inode %q: %w", f[9], err)
		}
		out = append(out, udpSocket{local: local, connected: remote.Port() != 0, inode: inode})
	}
	return out, sc.Err()
}

func parseProcAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no ':'")
	}
	raw, err := hex.DecodeString(host)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address must be 8 or 32 hex digits")
	}
	// hex.DecodeString read each word most significant byte first; the kernel printed it
	// in host order.
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port: %w", err)
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// socketInodes returns the inodes of the sockets open in a /proc/<pid>/fd directory.
func socketInodes(dir string) map[uint64]bool {
	out := map[uint64]bool{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(l, "socket:[") {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]"), 10, 64); err == nil {
			out[n] = true
		}
	}
	return out
}

// describeHolder names the process that has the socket open, when /proc shows it.
func describeHolder(s udpSocket) string {
	where := "a socket on " + s.local.String()
	pids, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range pids {
		if socketInodes(filepath.Join(p, "fd"))[s.inode] {
			comm, _ := os.ReadFile(filepath.Join(p, "comm"))
			return fmt.Sprintf("%s of pid %s (%s)", where, filepath.Base(p), strings.TrimSpace(string(comm)))
		}
	}
	return where
}
