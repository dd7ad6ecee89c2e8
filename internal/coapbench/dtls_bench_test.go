//go:build linux

package coapbench

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/spoof"
)

// BenchmarkDTLS compares pigw's DTLS endpoint with libcoap's coap-server-openssl in one run:
// full handshakes per second, GETs per second over established sessions, and a legitimate
// client's handshake and GET during floods of forged ClientHellos (root only: the floods
// forge source addresses in 127.0.0.0/8 with a raw socket). It prints figures and never fails
// on them:
//
//	go test -run '^$' -bench DTLS -benchtime 1x -timeout 20m ./internal/coapbench/
//
// PIGW_BENCH_ROUND sets each rate's measuring time [5s]; PIGW_BENCH_PIGW_BIN a pigw binary.
func BenchmarkDTLS(b *testing.B) {
	round := envDuration(b, "PIGW_BENCH_ROUND", 5*time.Second)
	out := os.Stdout
	ctx := b.Context()
	printMachine(out)
	var servers []Server
	bin := os.Getenv("PIGW_BENCH_PIGW_BIN")
	if bin == "" {
		var err error
		if bin, err = BuildPigw(ctx, b.TempDir()); err != nil {
			loud(out, "pigw NOT BENCHMARKED: "+firstLine(err.Error()), err.Error())
		}
	}
	if bin != "" {
		servers = append(servers, PigwDTLS(bin))
	}
	if _, err := exec.LookPath("coap-server-openssl"); err != nil {
		loud(out, "libcoap NOT BENCHMARKED: coap-server-openssl not found (Debian package libcoap3-bin)", "")
	} else {
		servers = append(servers, LibcoapDTLS())
	}
	floods := []int{20000, 100000}
	if os.Geteuid() != 0 {
		loud(out, "floods NOT MEASURED: forging source addresses needs root (a raw socket)", "")
		floods = nil
	}

	fmt.Fprintf(out, "\n== DTLS 1.2 PSK (TLS_PSK_WITH_AES_128_CCM_8, pion client); %v per figure\n", round)
	fmt.Fprintf(out, "%-8s %12s %10s %12s %10s\n", "server", "handshakes/s", "failed", "GET/s, 8 sess.", "t/o")
	type floodRow struct {
		server    string
		rate      float64
		latencies []string
		logLines  int
		rssBefore int64
		rssAfter  int64
	}
	var rows []floodRow
	for _, s := range servers {
		addr, err := FreeUDPPortPair()
		if err != nil {
			b.Fatal(err)
		}
		p, err := s.Start(ctx, b.TempDir(), addr)
		if err != nil {
			loud(out, s.Name+" NOT BENCHMARKED: did not start: "+firstLine(err.Error()), err.Error())
			continue
		}
		hs, hsFail := handshakeRate(ctx, DTLSAddr(p), 4, round)
		gets, getFail := getRate(ctx, DTLSAddr(p), 8, round)
		fmt.Fprintf(out, "%-8s %12.0f %10d %12.0f %10d\n", s.Name, hs, hsFail, gets, getFail)
		for _, rate := range floods {
			r := floodRow{server: s.Name}
			r.rssBefore, _ = RSS(p.Pid())
			linesBefore := lineCount(p.Log)
			r.rate, r.latencies = duringFlood(ctx, DTLSAddr(p), rate)
			time.Sleep(time.Second)
			r.rssAfter, _ = RSS(p.Pid())
			r.logLines = lineCount(p.Log) - linesBefore
			rows = append(rows, r)
		}
		p.Stop()
	}
	if len(rows) > 0 {
		fmt.Fprintf(out, "\n== Forged ClientHellos from 127.0.0.0/8, 6 s each; a legitimate handshake + GET (10 s limit) 1, 3 and 5 s in\n")
		fmt.Fprintf(out, "%-8s %10s %-34s %10s %10s %10s\n", "server", "sent/s", "handshake+GET during the flood", "log lines", "RSS before", "RSS after")
		for _, r := range rows {
			fmt.Fprintf(out, "%-8s %10.0f %-34s %10d %10s %10s\n", r.server, r.rate, strings.Join(r.latencies, " "), r.logLines, mb(r.rssBefore), mb(r.rssAfter))
		}
	}
}

// closedLoop runs work in n goroutines for d; work calls ok or bad once per operation and
// returns when ctx is done. It returns the rate of ok operations and the count of bad ones.
func closedLoop(ctx context.Context, n int, d time.Duration, work func(ctx context.Context, ok, bad func())) (perSecond float64, failed int64) {
	var done, failures atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() { work(ctx, func() { done.Add(1) }, func() { failures.Add(1) }) })
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), failures.Load()
}

// handshakeRate runs full handshakes (then close) from workers goroutines for d.
func handshakeRate(ctx context.Context, addr netip.AddrPort, workers int, d time.Duration) (perSecond float64, failed int64) {
	return closedLoop(ctx, workers, d, func(ctx context.Context, ok, bad func()) {
		for ctx.Err() == nil {
			c, err := DialDTLS(context.Background(), addr, 5*time.Second)
			if err != nil {
				bad()
				continue
			}
			c.Close()
			ok()
		}
	})
}

// getRate runs closed-loop GETs over sessions established sessions for d.
func getRate(ctx context.Context, addr netip.AddrPort, sessions int, d time.Duration) (perSecond float64, timeouts int64) {
	return closedLoop(ctx, sessions, d, func(ctx context.Context, ok, bad func()) {
		c, err := DialDTLS(ctx, addr, 5*time.Second)
		if err != nil {
			bad()
			return
		}
		defer c.Close()
		buf := make([]byte, 2048)
		for mid := uint16(0); ctx.Err() == nil; mid++ {
			if err := GetDTLS(c, mid, buf, time.Second); err != nil {
				bad()
				continue
			}
			ok()
		}
	})
}

// duringFlood floods addr with forged hellos at rate for 6 s and times a legitimate handshake
// and GET 1, 3 and 5 s in.
func duringFlood(ctx context.Context, addr netip.AddrPort, rate int) (sent float64, latencies []string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res := make(chan spoof.Result, 1)
	go func() {
		r, _ := spoof.Send(ctx, spoof.Flood{To: addr, Payload: spoof.DTLSClientHello(), Rate: rate, Count: rate * 6, Sources: min(rate*6, 1<<23)})
		res <- r
	}()
	start := time.Now()
	for _, at := range []time.Duration{time.Second, 3 * time.Second, 5 * time.Second} {
		time.Sleep(time.Until(start.Add(at)))
		t0 := time.Now()
		c, err := DialDTLS(ctx, addr, 10*time.Second)
		if err == nil {
			err = GetDTLS(c, 1, make([]byte, 2048), 5*time.Second)
			c.Close()
		}
		if err != nil {
			latencies = append(latencies, "failed")
			continue
		}
		latencies = append(latencies, time.Since(t0).Round(time.Millisecond).String())
	}
	r := <-res
	return r.Rate(), latencies
}

func lineCount(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
