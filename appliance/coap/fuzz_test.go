package coap

import (
	"net/netip"
	"testing"
)

// FuzzPacket drives the request path (classification, decoding, deduplication, every method
// on the tutorial's resources) with arbitrary datagrams; it must never panic.
func FuzzPacket(f *testing.F) {
	for _, seed := range [][]byte{
		{0x40, 0x01, 0x00, 0x01, 0xb9, 'r', 'e', 's', 'o', 'u', 'r', 'c', 'e', '1'},
		{0x44, 0x03, 0x00, 0x02, 1, 2, 3, 4, 0xb1, 'x', 0xff, 'v'},
		{0x40, 0x01, 0x00, 0x03, 0xbb, '.', 'w', 'e', 'l', 'l', '-', 'k', 'n', 'o', 'w', 'n', 0x04, 'c', 'o', 'r', 'e', 0x44, 'r', 't', '=', 'x'},
		{0x40, 0x02, 0x00, 0x04, 0xb9, 'r', 'e', 's', 'o', 'u', 'r', 'c', 'e', '2', 0xd1, 0x0e, 0x0e, 0xff, 'a'},
		{0x40, 0x01, 0x00, 0x05, 0x60, 0xb9, 'r', 'e', 's', 'o', 'u', 'r', 'c', 'e', '1'},
		{0x4f, 0x01, 0x00, 0x06},
		{0x40, 0x03, 0x00, 0x07, 0xb2, 'u', 'p', 0xd1, 0x0e, 0x08, 0xff, 'a', 'b'},
	} {
		f.Add(seed)
	}
	s, err := NewServer(Config{Listen: []string{"127.0.0.1:0"}, DynamicResources: true, Limits: Limits{MaxResources: 64}})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.endpoints[0].close() })
	for _, uri := range []string{"resource1", "resource2"} {
		if _, err := s.AddResource(uri, WithValue([]byte("v")), WithETag(), WithMethods(AllMethods)); err != nil {
			f.Fatal(err)
		}
	}
	up := &sink{failAt: -1, max: 4096}
	if _, err := s.AddResource("up", WithBlockHandler(PUT, up.take)); err != nil {
		f.Fatal(err)
	}
	w := newWorker(s.endpoints[0])
	peer := netip.MustParseAddrPort("127.0.0.1:9") // discard port: answers go nowhere
	f.Fuzz(func(t *testing.T, pkt []byte) {
		w.packet(pkt, peer, pktinfo{})
	})
}
