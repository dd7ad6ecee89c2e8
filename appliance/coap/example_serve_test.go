package coap_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"

	"github.com/pigw/pigw/appliance/coap"
)

// An LwM2M client in small: a server without sockets holds the client's objects, and the
// session the client registers over serves them, so the LwM2M server reads /3/0/0 over the
// address the registration came from. The LwM2M server here is a bare UDP socket.
func ExampleSession_Serve() {
	objects, _ := coap.NewServer(coap.Config{SessionsOnly: true, Logger: slog.New(slog.DiscardHandler)})
	_, _ = objects.AddResource("3/0/0", coap.WithValue([]byte("Raspberry Pi Ltd")), coap.WithMediaType(coap.TextPlain), coap.WithMethods(coap.GET))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go objects.Serve(ctx) // Block1 expiry and the event log; it has no sockets to read

	lwm2mServer, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer lwm2mServer.Close()
	client := coap.NewClient(nil)
	defer client.Close()
	session, err := client.NewSession(lwm2mServer.LocalAddr().String(), coap.SessionOptions{})
	if err != nil {
		panic(err)
	}
	if err := session.Serve(objects); err != nil {
		panic(err)
	}

	// The LwM2M server's side: take the Register, answer 2.01, then Read /3/0/0.
	registered := make(chan coap.Response, 1)
	go func() {
		r, _ := session.Do(ctx, coap.NewRequest(coap.POST, "rd?ep=pigw&lt=300&lwm2m=1.1&b=U"))
		registered <- r
	}()
	buf := make([]byte, 1500)
	n, from, _ := lwm2mServer.ReadFromUDPAddrPort(buf)
	reg := message.Message{Options: make(message.Options, 0, 16)}
	_, _ = coder.DefaultCoder.Decode(buf[:n], &reg)
	send := func(m message.Message) {
		out := make([]byte, 1500)
		n, _ := coder.DefaultCoder.Encode(m, out)
		_, _ = lwm2mServer.WriteToUDPAddrPort(out[:n], from)
	}
	send(message.Message{Type: message.Acknowledgement, Code: codes.Created, MessageID: reg.MessageID, Token: reg.Token})
	fmt.Println("register:", (<-registered).Code)

	read := message.Message{Type: message.Confirmable, Code: codes.GET, MessageID: 1, Token: []byte{7}}
	for _, seg := range []string{"3", "0", "0"} {
		read.Options = read.Options.Add(message.Option{ID: message.URIPath, Value: []byte(seg)})
	}
	send(read)
	n, at, _ := lwm2mServer.ReadFromUDPAddrPort(buf)
	answer := message.Message{Options: make(message.Options, 0, 16)}
	_, _ = coder.DefaultCoder.Decode(buf[:n], &answer)
	fmt.Println("read /3/0/0:", coap.Code(answer.Code), string(answer.Payload), "from the registered address:", at == from)
	// Output:
	// register: 2.01
	// read /3/0/0: 2.05 Raspberry Pi Ltd from the registered address: true
}
