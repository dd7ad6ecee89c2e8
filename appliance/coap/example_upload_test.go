package coap_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"log/slog"
	"strings"

	"github.com/pigw/pigw/appliance/coap"
)

// A resource that takes a large body block by block, hashing it as it arrives instead of
// holding it, and a client that uploads to it from a reader.
func ExampleSession_Upload() {
	srv, _ := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.DiscardHandler)})
	var sum hash.Hash
	var next int64
	_, _ = srv.AddResource("firmware", coap.WithBlockHandler(coap.PUT, func(b coap.Block) coap.Answer {
		if b.Offset == 0 {
			sum, next = sha256.New(), 0
		}
		if b.Offset != next {
			return coap.Answer{Code: coap.Incomplete, ContentFormat: coap.NoMediaType, Payload: []byte("start again at block 0")}
		}
		sum.Write(b.Payload)
		next += int64(len(b.Payload))
		if b.More {
			return coap.Answer{Code: coap.Continue, ContentFormat: coap.NoMediaType}
		}
		return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: fmt.Appendf(nil, "%d bytes, sha256 %x", next, sum.Sum(nil)[:4])}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = srv.Listen()
	go srv.Serve(ctx)

	client := coap.NewClient(nil)
	defer client.Close()
	session, err := client.NewSession(srv.Addrs()[0].String(), coap.SessionOptions{})
	if err != nil {
		panic(err)
	}
	body := strings.Repeat("pigw", 10000)
	resp, err := session.Upload(ctx, coap.NewRequest(coap.PUT, "firmware"), strings.NewReader(body), int64(len(body)), 0, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Code, string(resp.Payload))
	// Output: 2.04 40000 bytes, sha256 b7546484
}
