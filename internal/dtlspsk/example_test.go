package dtlspsk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"

	"github.com/pigw/pigw/internal/dtlspsk"
)

// A server that answers each datagram with the client's identity, and a pion client.
func ExampleListener_Serve() {
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	l := dtlspsk.New(udp, dtlspsk.Config{
		PSK: func(identity []byte) ([]byte, error) {
			if string(identity) == "alice" {
				return []byte("alicekey"), nil
			}
			return nil, errors.New("unknown identity")
		},
		ConnectionID: true,
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		l.Serve(ctx, func(ctx context.Context, c *dtlspsk.Conn) {
			buf := make([]byte, 1500)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				_, _ = c.Write(fmt.Appendf(nil, "%s said %q", c.Identity(), buf[:n]))
			}
		})
	}()

	client, _ := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(l.Addr()))
	conn, _ := dtls.Client(dtlsnet.PacketConnFromConn(client), client.RemoteAddr(), &dtls.Config{
		PSK:             func([]byte) ([]byte, error) { return []byte("alicekey"), nil },
		PSKIdentityHint: []byte("alice"),
		CipherSuites:    []dtls.CipherSuiteID{dtls.TLS_PSK_WITH_AES_128_CCM_8},
	})
	_, _ = conn.Write([]byte("hello"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, err := conn.Read(buf)
	fmt.Println(string(buf[:n]), err)
	conn.Close()
	cancel()
	<-served
	// Output: alice said "hello" <nil>
}
