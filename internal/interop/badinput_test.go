package interop

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestBadInput throws malformed datagrams, an oversized value and far too
// many resources at the running binary; it must keep answering, never panic
// and stay small.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, seedConfig("  limits: {max_resources: 300}\n"))
	c := dialRaw(t, s.listen[0])
	pid := s.Pid()
	t.Logf("VmRSS at start: %d kB", vmRSS(t, pid))

	alive := func(t *testing.T, when string) {
		t.Helper()
		r, err := c.do(request(0, codes.GET, "resource1", nil), time.Second, 3)
		if err != nil {
			t.Fatalf("%s: GET resource1: %v", when, err)
		}
		if r.Code != codes.Content || string(r.Payload) != "default_value" {
			t.Fatalf("%s: GET resource1: %v %q, want 2.05 default_value", when, r.Code, r.Payload)
		}
	}

	// Junk goes out from sockets of its own: a junk datagram that happens
	// to parse as a request takes its message ID for the exchange lifetime
	// (RFC 7252 §4.5), which would make c's requests look like duplicates.
	t.Run("malformed", func(t *testing.T) {
		c := dialRaw(t, s.listen[0])
		hdr := []byte{0x40, 0x01, 0x12, 0x34} // CON GET, MID 0x1234, no token
		// want is "RST" for a CON that must be rejected (RFC 7252 §4.2:
		// format errors, Empty messages, reserved classes, no context) and
		// "" for what must be ignored silently (§3, §4.2, §4.3).
		type junkCase struct {
			name, want string
			b          []byte
		}
		cases := []junkCase{
			{"empty datagram", "", nil},
			{"1 byte", "", []byte{0x40}},
			{"2 bytes", "", []byte{0x40, 0x01}},
			{"3 bytes", "", []byte{0x40, 0x01, 0x12}},
			{"version 2", "", []byte{0x80, 0x01, 0x12, 0x34}},
			{"version 0", "", []byte{0x00, 0x01, 0x12, 0x34}},
			{"option delta 15", "RST", append(bytes.Clone(hdr), 0xF0)},
			{"option length 15", "RST", append(bytes.Clone(hdr), 0x1F, 0x00)},
			{"option delta 13 truncated", "RST", append(bytes.Clone(hdr), 0xD0)},
			{"option delta 14 truncated", "RST", append(bytes.Clone(hdr), 0xE0, 0x01)},
			{"option length past end", "RST", append(bytes.Clone(hdr), 0xB5, 'a', 'b')},
			{"payload marker no payload", "RST", append(bytes.Clone(hdr), 0xB1, 'x', 0xFF)},
			{"payload marker alone", "RST", append(bytes.Clone(hdr), 0xFF)},
			{"token past end", "RST", []byte{0x48, 0x01, 0x12, 0x34, 1, 2}},
			{"ping (empty CON)", "RST", []byte{0x40, 0x00, 0x12, 0x34}},
			{"empty CON with payload", "RST", []byte{0x40, 0x00, 0x12, 0x34, 0xFF, 'x'}},
			{"empty CON with token", "RST", []byte{0x41, 0x00, 0x12, 0x34, 0x01}},
			{"class 1 code", "RST", []byte{0x40, 0x20, 0x12, 0x34}},
			{"class 7 code", "RST", []byte{0x40, 0xE0, 0x12, 0x34}},
			{"CON response to nobody", "RST", []byte{0x40, 0x45, 0x12, 0x34}},
			{"NON with option delta 15", "", []byte{0x50, 0x01, 0x12, 0x34, 0xF0}},
			{"ACK out of nowhere", "", []byte{0x60, 0x00, 0x12, 0x34}},
			{"RST out of nowhere", "", []byte{0x70, 0x00, 0x12, 0x34}},
		}
		for tkl := byte(9); tkl <= 15; tkl++ {
			b := append([]byte{0x40 | tkl, 0x01, 0x12, 0x34}, make([]byte, 15)...)
			cases = append(cases, junkCase{fmt.Sprintf("token length %d", tkl), "RST", b})
		}
		for _, tc := range cases {
			if err := c.write(tc.b); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			answers := c.drainAll(50 * time.Millisecond)
			switch {
			case tc.want == "" && len(answers) > 0:
				t.Errorf("%s (% x): answered % x, want silence", tc.name, tc.b, answers[0])
			case tc.want == "RST" && (len(answers) != 1 || !bytes.Equal(answers[0], []byte{0x70, 0x00, 0x12, 0x34})):
				t.Errorf("%s (% x): answered % x, want one RST 70 00 12 34", tc.name, tc.b, answers)
			}
		}
		alive(t, "after malformed datagrams")
		// The junk socket itself is still served.
		r, err := c.do(request(0, codes.GET, "resource1", nil), time.Second, 3)
		if err != nil || r.Code != codes.Content {
			t.Errorf("GET resource1 from the socket that sent junk: %v %v", r, err)
		}
	})

	t.Run("random garbage", func(t *testing.T) {
		junk := dialRaw(t, s.listen[0])
		rng := rand.New(rand.NewPCG(2026, 11))
		for i := range 1000 {
			b := make([]byte, rng.IntN(300))
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
			if len(b) > 0 && rng.IntN(2) == 0 {
				b[0] = 0x40 | b[0]&0x3F // version 1, so the header parses
			}
			if err := junk.write(b); err != nil {
				t.Fatal(err)
			}
			if i%50 == 49 {
				junk.drain(5 * time.Millisecond)
			}
		}
		junk.drain(100 * time.Millisecond)
		alive(t, "after 1000 random datagrams")
	})

	t.Run("20000-byte PUT in one datagram", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), 20000)
		for _, path := range []string{"resource1", "big/new"} {
			r, err := c.do(request(0, codes.PUT, path, big, contentFormat(message.TextPlain)), time.Second, 3)
			if err != nil {
				t.Fatalf("PUT %s: %v", path, err)
			}
			if r.Code != codes.RequestEntityTooLarge {
				t.Errorf("PUT %s with 20000 bytes: %v, want 4.13", path, r.Code)
			}
			if v, err := r.Options.GetUint32(message.Size1); err != nil || v != 16384 {
				t.Logf("PUT %s with 20000 bytes: Size1 %d (%v)", path, v, err)
			}
		}
		alive(t, "after the oversized PUT")
		r, err := c.do(request(0, codes.GET, "big/new", nil), time.Second, 3)
		if err != nil || r.Code != codes.NotFound {
			t.Errorf("GET big/new after a refused creation: %v %v, want 4.04", r, err)
		}
	})

	t.Run("5000 dynamic PUTs", func(t *testing.T) {
		created, refused := 0, 0
		firstRefused := -1
		for i := range 5000 {
			r, err := c.do(request(0, codes.PUT, fmt.Sprintf("flood/%d", i), []byte("v"), contentFormat(message.TextPlain)), time.Second, 3)
			if err != nil {
				t.Fatalf("PUT flood/%d: %v", i, err)
			}
			switch r.Code {
			case codes.Created:
				created++
				if firstRefused >= 0 {
					t.Fatalf("PUT flood/%d: 2.01 after a refusal at %d", i, firstRefused)
				}
			case codes.ServiceUnavailable, codes.TooManyRequests:
				refused++
				if firstRefused < 0 {
					firstRefused = i
				}
			default:
				t.Fatalf("PUT flood/%d: %v", i, r.Code)
			}
		}
		// The seed has 2 resources (a/b etc. are not created here).
		t.Logf("created %d, refused %d (first refusal at flood/%d)", created, refused, firstRefused)
		if created != 298 || refused != 5000-298 {
			t.Errorf("created %d, refused %d; want 298 created (300 resources with the 2 seeded) and the rest refused", created, refused)
		}
		// Deleting one makes room for one.
		r, err := c.do(request(0, codes.DELETE, "flood/0", nil), time.Second, 3)
		if err != nil || r.Code != codes.Deleted {
			t.Fatalf("DELETE flood/0: %v %v", r, err)
		}
		r, err = c.do(request(0, codes.PUT, "flood/again", []byte("v")), time.Second, 3)
		if err != nil || r.Code != codes.Created {
			t.Errorf("PUT after a DELETE at the limit: %v %v, want 2.01", r, err)
		}
		alive(t, "after the flood")
	})

	rss := vmRSS(t, pid)
	t.Logf("VmRSS after the bad input: %d kB (race-enabled build)", rss)
	if rss > 100*1024 {
		t.Errorf("VmRSS %d kB, want below 100 MB", rss)
	}
	if s.Pid() != pid || !s.running() {
		t.Errorf("pigw is not the same running process")
	}
}
