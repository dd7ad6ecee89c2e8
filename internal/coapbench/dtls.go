package coapbench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
)

// The DTLS benchmark's identity and key; both servers take the key from any identity.
const (
	BenchIdentity = "bench"
	BenchKey      = "benchkey"
)

// DTLSAddr is where a server started by PigwDTLS or LibcoapDTLS takes DTLS: the port after its
// plain CoAP port, libcoap's convention.
func DTLSAddr(p *Process) netip.AddrPort {
	return netip.AddrPortFrom(p.Addr.Addr(), p.Addr.Port()+1)
}

// PigwDTLS is `pigw run` of bin with PigwConfig plus a DTLS endpoint on DTLSAddr.
func PigwDTLS(bin string) Server {
	return pigwWith(bin, "pigw-dtls", func(addr netip.AddrPort) string {
		return fmt.Sprintf("%s  dtls:\n    listen: [\"%s\"]\n    keys: {%s: %s}\n", PigwConfig(addr),
			netip.AddrPortFrom(addr.Addr(), addr.Port()+1), BenchIdentity, BenchKey)
	})
}

// LibcoapDTLS is libcoap's coap-server-openssl with the key BenchKey and a dynamic resource
// BenchPath created by one PUT of BenchPayload.
func LibcoapDTLS() Server {
	return libcoapWith("libcoap-dtls", "coap-server-openssl", "-k", BenchKey)
}

// FreeUDPPortPair returns a loopback address whose port and the next were free a moment ago.
func FreeUDPPortPair() (netip.AddrPort, error) {
	for range 50 {
		a, err := FreeUDPPort()
		if err != nil {
			return a, err
		}
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.Addr(), a.Port()+1)))
		if err == nil {
			c.Close()
			return a, nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("no two free consecutive UDP ports on loopback")
}

// DialDTLS runs a DTLS 1.2 PSK handshake (TLS_PSK_WITH_AES_128_CCM_8) with addr, on loopback
// only, within timeout.
func DialDTLS(ctx context.Context, addr netip.AddrPort, timeout time.Duration) (*dtls.Conn, error) {
	if !addr.Addr().IsLoopback() {
		return nil, fmt.Errorf("coapbench: address %v is not a loopback address", addr)
	}
	udp, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	conn, err := dtls.Client(dtlsnet.PacketConnFromConn(udp), udp.RemoteAddr(), &dtls.Config{
		PSK:                  func([]byte) ([]byte, error) { return []byte(BenchKey), nil },
		PSKIdentityHint:      []byte(BenchIdentity),
		CipherSuites:         []dtls.CipherSuiteID{dtls.TLS_PSK_WITH_AES_128_CCM_8},
		ExtendedMasterSecret: dtls.RequestExtendedMasterSecret,
	})
	if err != nil {
		udp.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := conn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("DTLS handshake with %s: %w", addr, err)
	}
	return conn, nil
}

// GetDTLS sends a CON GET of BenchPath with message ID mid over conn and waits up to timeout
// for its 2.05. A session's message IDs must not repeat within the exchange lifetime (about
// 247 s), or the server answers a duplicate with the earlier response: count them up.
func GetDTLS(conn net.Conn, mid uint16, buf []byte, timeout time.Duration) error {
	tok := rand.Uint32()
	req, err := buildRequest(typeCON, codeGET, mid, tok, BenchPath, nil)
	if err != nil {
		return err
	}
	if _, err := conn.Write(req); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		m, ok := parseMessage(buf[:n])
		if !ok || len(m.token) != tokenLen || binary.BigEndian.Uint32(m.token) != tok {
			continue
		}
		if m.code != codeContent {
			return fmt.Errorf("GET /%s over DTLS: %s", BenchPath, CodeString(m.code))
		}
		return nil
	}
}
