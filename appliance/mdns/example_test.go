package mdns_test

import (
	"fmt"
	"log/slog"

	"github.com/pigw/pigw/appliance/mdns"
)

// A gateway called pigw-kitchen with CoAP on its usual port and a status page on port 80. A
// supervisor runs the responder: supervisor.New(log, nil).Run(ctx, r).
func Example() {
	r, err := mdns.New(mdns.Config{
		Hostname: "pigw-kitchen",
		Instance: mdns.InstanceName("pigw-kitchen", 5683),
		Services: []mdns.Service{{Type: "_coap._udp", Port: 5683}, {Type: "_http._tcp", Port: 80}},
		TXT:      []string{"version=1.4.0", "board=Raspberry Pi 4 Model B Rev 1.5"},
		Log:      slog.Default(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Name())

	_, err = mdns.New(mdns.Config{Hostname: "pigw.kitchen"})
	fmt.Println(err)

	fmt.Println(mdns.InstanceName("pigw-kitchen", 5685))
	// Output:
	// mdns
	// mdns: host name "pigw.kitchen": want 1..63 letters, digits and '-', not starting or ending with '-'
	// pigw-kitchen (port 5685)
}
