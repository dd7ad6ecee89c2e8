package coap

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
)

func TestParseUDPTable(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the sample lines are those of a little-endian host")
	}
	const table = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 00000000:163F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4101 2 0000000000000000 0
  102: 0100007F:1641 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4102 2 0000000000000000 0
  103: BB0100E0:163F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4103 2 0000000000000000 0
  104: 0202000A:D431 0101000A:163F 01 00000000:00000000 00:00000000 00000000     0        0 4104 2 0000000000000000 0
  105: 00000000000000000000000001000000:163F 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4105 2 0000000000000000 0
  106: 000002FF0000000000000000FD000000:163F 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4106 2 0000000000000000 0
`
	got, err := parseUDPTable(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []udpSocket{
		{netip.MustParseAddrPort("0.0.0.0:5695"), false, 4101},
		{netip.MustParseAddrPort("127.0.0.1:5697"), false, 4102},
		{netip.MustParseAddrPort("224.0.1.187:5695"), false, 4103},
		{netip.MustParseAddrPort("10.0.2.2:54321"), true, 4104},
		{netip.MustParseAddrPort("[::1]:5695"), false, 4105},
		{netip.MustParseAddrPort("[ff02::fd]:5695"), false, 4106},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sockets, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

func TestParseUDPTableErrors(t *testing.T) {
	for _, line := range []string{
		"  1: 0000000G:163F 00000000:0000 07 0:0 00:0 0 0 0 1 2 0 0",
		"  1: 00000000 00000000:0000 07 0:0 00:0 0 0 0 1 2 0 0",
		"  1: 00000000:163F 00000000:0000 07 0:0 00:0 0 0 0 x 2 0 0",
		"  1: 000000:163F 00000000:0000 07 0:0 00:0 0 0 0 1 2 0 0",
	} {
		if _, err := parseUDPTable(strings.NewReader("header\n" + line)); err == nil {
			t.Errorf("%q: no error", line)
		}
	}
}
