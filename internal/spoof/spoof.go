// Package spoof sends UDP datagrams with forged IPv4 source addresses to a loopback address,
// for the flood tests and benchmarks of servers that must hold under forged traffic.
//
// A forged source is what an attacker on a LAN can send at will and what a server cannot
// answer usefully: its answers go to addresses that never asked. Generating it needs a raw
// socket (root, or CAP_NET_RAW). The sender refuses any destination outside 127.0.0.0/8, draws
// sources from 127.0.0.0/8 too, and stops after a count and a time it is given: its traffic
// never leaves the host.
package spoof

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Flood is one bounded flood.
type Flood struct {
	To      netip.AddrPort // a 127.0.0.0/8 address
	Payload []byte         // each datagram's UDP payload
	Rate    int            // datagrams per second
	Count   int            // datagrams in all
	// Sources is how many distinct forged sources (127.x.y.z, never 127.0.0.1) are drawn from.
	Sources int
}

// Result is what a flood sent.
type Result struct {
	Sent    int
	Elapsed time.Duration
}

// Rate is the achieved rate in datagrams per second.
func (r Result) Rate() float64 { return float64(r.Sent) / r.Elapsed.Seconds() }

// Send sends the flood, pacing it to its rate, until its count is sent or ctx is done.
func Send(ctx context.Context, f Flood) (Result, error) {
	if !f.To.Addr().Is4() || !f.To.Addr().IsLoopback() {
		return Result{}, fmt.Errorf("flood to %s: only 127.0.0.0/8 destinations are allowed", f.To)
	}
	if f.Rate <= 0 || f.Count <= 0 || f.Sources <= 0 || f.Sources > 1<<23 {
		return Result{}, fmt.Errorf("flood rate %d, count %d, sources %d: all must be positive, sources at most 2^23", f.Rate, f.Count, f.Sources)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return Result{}, fmt.Errorf("raw socket (needs root or CAP_NET_RAW): %w", err)
	}
	defer unix.Close(fd)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	dst := &unix.SockaddrInet4{Addr: f.To.Addr().As4()}
	pkt := make([]byte, 28+len(f.Payload))
	header(pkt, f.To, len(f.Payload))
	copy(pkt[28:], f.Payload)

	start := time.Now()
	const tick = time.Millisecond
	sent := 0
	for sent < f.Count && ctx.Err() == nil {
		due := min(f.Count, int(float64(f.Rate)*time.Since(start).Seconds())+1)
		for ; sent < due; sent++ {
			src := source(sent, f.Sources)
			copy(pkt[12:16], src[:])
			binary.BigEndian.PutUint16(pkt[20:], uint16(1024+sent%60000)) // source port
			if err := unix.Sendto(fd, pkt, 0, dst); err != nil && err != unix.ENOBUFS && err != unix.EAGAIN {
				return Result{Sent: sent, Elapsed: time.Since(start)}, fmt.Errorf("send: %w", err)
			}
		}
		time.Sleep(tick)
	}
	return Result{Sent: sent, Elapsed: time.Since(start)}, ctx.Err()
}

// source is the i-th datagram's forged address: one of n in 127.0.0.2 up, spread at random.
func source(i, n int) [4]byte {
	k := uint32(2 + rand.N(n))
	if i < n {
		k = uint32(2 + i)
	}
	return [4]byte{127, byte(k >> 16), byte(k >> 8), byte(k)}
}

// header writes the IPv4 and UDP headers of a datagram of n payload bytes to to; the kernel
// fills in the IP checksum and ID (IP_HDRINCL), and a UDP checksum of 0 means none.
func header(b []byte, to netip.AddrPort, n int) {
	b[0] = 0x45 // version 4, 5 words
	binary.BigEndian.PutUint16(b[2:], uint16(28+n))
	b[8] = 64 // TTL
	b[9] = unix.IPPROTO_UDP
	d := to.Addr().As4()
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[22:], to.Port())
	binary.BigEndian.PutUint16(b[24:], uint16(8+n))
}
