package wpa

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// sock is one client datagram socket connected to a control socket.
type sock struct {
	conn *net.UnixConn
	file string // the bound file to remove on close; "" for abstract
}

func (s *sock) close() {
	s.conn.Close()
	if s.file != "" {
		os.Remove(s.file)
	}
}

// dialSock binds a new local address and connects it to the control socket
// at path. The local name carries the process id, so that "ss -x" shows who
// is talking to wpa_supplicant, and a random part instead of a counter, so
// that no state is shared between Conns.
func (d *Dialer) dialSock(path string) (*sock, error) {
	raddr := &net.UnixAddr{Name: path, Net: "unixgram"}
	var err error
	for range 4 {
		name := fmt.Sprintf("pigw-wpa-%d-%08x", os.Getpid(), rand.Uint32())
		file := ""
		if d.LocalDir != "" {
			file = filepath.Join(d.LocalDir, name)
			name = file
		} else {
			name = "@" + name
		}
		var conn *net.UnixConn
		conn, err = net.DialUnix("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"}, raddr)
		if err == nil {
			return &sock{conn: conn, file: file}, nil
		}
		if file != "" && !errors.Is(err, syscall.EADDRINUSE) {
			os.Remove(file) // bound before connect failed
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, err
}
