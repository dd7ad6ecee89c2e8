package coap_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/udp"
)

// The tutorial's server example: two resources, dynamic resources, and a handler for resources
// created by PUT that prints them and sets their details. Where the tutorial calls Coap.read()
// in a thread, Serve runs in a goroutine.
func Example() {
	srv, err := coap.NewServer(coap.Config{
		Listen:           []string{"127.0.0.1:0"}, // the tutorial: the WLAN address, port 5683
		DynamicResources: true,
		Logger:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	created := make(chan struct{})
	srv.OnNewResource(func(r *coap.Resource) {
		d := r.Details()
		fmt.Println("New resource has been created!")
		fmt.Println("URI:", d.URI)
		fmt.Println("Mediatype:", d.MediaType)
		fmt.Println("Max Age:", d.MaxAge)
		fmt.Println("ETAG:", d.ETag)
		fmt.Println("ETAG value:", d.ETagValue)
		fmt.Printf("Value: %s\n", r.Value())
		_ = r.SetDetails(coap.Details{MediaType: coap.TextPlain, MaxAge: 100, ETag: true})
		close(created)
	})

	r, _ := srv.AddResource("resource1", coap.WithMediaType(coap.TextPlain), coap.WithValue([]byte("default_value")))
	_ = r.AddAttribute("title", "resource1")
	_ = r.AddAttribute("ct", "0")
	r.Allow(coap.GET|coap.POST|coap.PUT, true)

	r, _ = srv.AddResource("resource2", coap.WithMediaType(coap.AppXML), coap.WithETag())
	r.Allow(coap.GET|coap.POST|coap.PUT|coap.DELETE, true)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Listen(); err != nil {
		panic(err)
	}
	go srv.Serve(ctx)
	fmt.Println(srv.LinkFormat())

	// Any CoAP client can now use it; here go-coap's.
	conn, err := udp.Dial(srv.Addrs()[0].String())
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	resp, err := conn.Get(rctx, "/resource1")
	if err != nil {
		panic(err)
	}
	body, _ := resp.ReadBody()
	fmt.Printf("GET /resource1: %v %s\n", resp.Code(), body)
	resp, err = conn.Put(rctx, "/made/by/put", message.TextPlain, bytes.NewReader([]byte("hello")))
	if err != nil {
		panic(err)
	}
	<-created
	fmt.Println("PUT /made/by/put:", resp.Code())
	// Output:
	// </resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs
	// GET /resource1: Content default_value
	// New resource has been created!
	// URI: made/by/put
	// Mediatype: text/plain
	// Max Age: -1
	// ETAG: false
	// ETAG value: 0
	// Value: hello
	// PUT /made/by/put: Created
}

// LinkFormat filters like a /.well-known/core query.
func ExampleServer_LinkFormat() {
	srv, _ := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}})
	_, _ = srv.AddResource("sensors/temp", coap.WithMediaType(coap.TextPlain), coap.WithAttribute("rt", "temperature"), coap.WithMethods(coap.GET))
	_, _ = srv.AddResource("sensors/light", coap.WithAttribute("rt", "light-lux"), coap.WithMethods(coap.GET))
	_, _ = srv.AddResource("config", coap.WithMethods(coap.PUT))
	fmt.Println(srv.LinkFormat("rt=temperature"))
	fmt.Println(srv.LinkFormat("href=/sensors*"))
	fmt.Println(srv.LinkFormat("rt=light*"))
	// Output:
	// </sensors/temp>;rt="temperature";ct=0;obs
	// </sensors/light>;rt="light-lux";obs,</sensors/temp>;rt="temperature";ct=0;obs
	// </sensors/light>;rt="light-lux";obs
}

// SetValue changes a value from Go (a sensor reading, say); observers are notified.
func ExampleResource_SetValue() {
	srv, _ := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}})
	r, _ := srv.AddResource("counter", coap.WithValue([]byte("0")), coap.WithETag(), coap.WithMethods(coap.GET))
	_ = r.SetValue([]byte("1"))
	fmt.Printf("%s %+v\n", r.Value(), r.Details())
	// Output: 1 {URI:counter MediaType:none MaxAge:-1 ETag:true ETagValue:2}
}
