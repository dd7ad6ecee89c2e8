package coap_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

// The tutorial's client in non-blocking mode: a response handler, a session created at any
// time, and requests that return their message ID at once. Here the server is a pigw server
// on loopback; in the tutorial it is a board at 192.168.0.101.
func ExampleClient() {
	srv, _ := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.DiscardHandler)})
	_, _ = srv.AddResource("resource1", coap.WithValue([]byte("default_value")), coap.WithMethods(coap.GET|coap.POST))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = srv.Listen()
	go srv.Serve(ctx)

	var mu sync.Mutex
	var lines []string
	var wg sync.WaitGroup
	client := coap.NewClient(nil)
	defer client.Close()
	client.OnResponse(func(r coap.Response) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf("Code: %s Token: %s Payload: %q", r.Code, r.Token, r.Payload))
		wg.Done()
	})

	session, err := client.NewSession(srv.Addrs()[0].String(), coap.SessionOptions{})
	if err != nil {
		panic(err)
	}
	wg.Add(2)
	get := coap.NewRequest(coap.GET, ".well-known/core")
	get.Token = []byte("session1")
	id, _ := session.SendRequest(get) // the id pairs the request with Response.RequestMID
	_ = id
	get = coap.NewRequest(coap.GET, "resource1")
	get.Token = []byte("session2")
	_, _ = session.SendRequest(get)
	wg.Wait()
	wg.Add(1)
	post := coap.NewRequest(coap.POST, "resource1")
	post.Payload, post.Token = []byte("new_value"), []byte("session3")
	_, _ = session.SendRequest(post)
	wg.Wait()
	sort.Strings(lines) // responses may arrive in any order
	for _, l := range lines {
		fmt.Println(l)
	}

	// Do waits for the answer instead.
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	wg.Add(1)
	r, err := session.Do(rctx, coap.NewRequest(coap.GET, "resource1"))
	fmt.Println(r.Code, string(r.Payload), err)
	// Output:
	// Code: 2.04 Token: session3 Payload: ""
	// Code: 2.05 Token: session1 Payload: "</resource1>;obs"
	// Code: 2.05 Token: session2 Payload: "default_value"
	// 2.05 new_value <nil>
}
