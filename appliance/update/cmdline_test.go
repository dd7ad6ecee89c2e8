package update

import (
	"strings"
	"testing"
)

func TestRootPartition(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		n       int
		want    string // error text; "" for none
	}{
		{"console=tty1 root=PARTUUID=1a2b3c4d-02 rootfstype=squashfs init=/pigw\n", 2, ""},
		{"root=PARTUUID=1a2b3c4d-03", 3, ""},
		{"console=tty1 rootwait", 0, "no root= option"},
		{"root=/dev/mmcblk0p2", 0, "must be root=PARTUUID="},
		{"root=PARTUUID=1a2b3c4d-02 root=PARTUUID=1a2b3c4d-03", 0, "more than one"},
		{"root=PARTUUID=zz2b3c4d-02", 0, "8 hex digits"},
		{"root=PARTUUID=1a2b3c4d-x2", 0, "2 digits"},
	} {
		off, n, err := rootPartition([]byte(tc.cmdline))
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: got %v, want %q", tc.cmdline, err, tc.want)
			}
			continue
		}
		if err != nil || n != tc.n {
			t.Errorf("%q: offset %d partition %d, %v", tc.cmdline, off, n, err)
		}
		if got := tc.cmdline[off : off+2]; got != "0"+string(rune('0'+tc.n)) {
			t.Errorf("%q: offset %d points at %q", tc.cmdline, off, got)
		}
	}
}
