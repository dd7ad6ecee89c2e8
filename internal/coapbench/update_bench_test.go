//go:build linux

package coapbench

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
	"github.com/pigw/pigw/internal/progress"
)

// BenchmarkUpdate uploads a 16 MiB update bundle over DTLS on loopback (Block1, 1024-byte
// blocks, stop-and-wait) into a file slot of `pigw run`, with pigw update and with libcoap's
// coap-client-openssl, and the same body with coap-client-openssl into libcoap's
// coap-server-openssl: bytes per second, each to the end of the last block (pigw reads the
// slot back and compares its digest before it answers it). It prints figures and never fails
// on them:
//
//	go test -run '^$' -bench Update -benchtime 1x ./internal/coapbench/
func BenchmarkUpdate(b *testing.B) {
	ctx := b.Context()
	out := os.Stdout
	printMachine(out)
	dir := b.TempDir()
	bin := os.Getenv("PIGW_BENCH_PIGW_BIN")
	if bin == "" {
		var err error
		if bin, err = BuildPigw(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	rel := bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1", Seq: 1, Floor: 1, KernelRelease: "bench"}
	root := filepath.Join(dir, "root")
	if err := bundletest.WriteRoot(root, rel, key.Public().(ed25519.PublicKey)); err != nil {
		b.Fatal(err)
	}
	slot := filepath.Join(dir, "slot-b")
	if err := os.WriteFile(slot, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(slot, 64<<20); err != nil {
		b.Fatal(err)
	}
	bundles := make([]string, 2)
	for i := range bundles {
		body := make([]byte, 16<<20)
		_, _ = rand.Read(body)
		r := rel
		r.Version, r.Seq, r.Floor = fmt.Sprintf("v%d", i+2), uint64(i+2), uint64(i+2)
		data, err := bundletest.Bundle(r.Manifest(bundletest.Root(body)), body, key)
		if err != nil {
			b.Fatal(err)
		}
		bundles[i] = filepath.Join(dir, fmt.Sprintf("v%d.update", i+2))
		if err := os.WriteFile(bundles[i], data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	size := int64(16<<20 + bundle.HeaderSize)
	fmt.Fprintf(out, "\n== a %s update bundle over DTLS on loopback (Block1, 1024-byte blocks)\n", progress.HumanSize(size))
	fmt.Fprintf(out, "%-34s %10s %10s\n", "client -> server", "seconds", "MB/s")
	row := func(name string, took time.Duration, err error) {
		if err != nil {
			fmt.Fprintf(out, "%-34s %s\n", name, "FAILED: "+firstLine(err.Error()))
			return
		}
		fmt.Fprintf(out, "%-34s %10.1f %10.2f\n", name, took.Seconds(), float64(size)/1e6/took.Seconds())
	}

	addr, err := FreeUDPPortPair()
	if err != nil {
		b.Fatal(err)
	}
	dtlsAddr := netip.AddrPortFrom(addr.Addr(), addr.Port()+1)
	dev := pigwWith(bin, "pigw-update", func(a netip.AddrPort) string {
		return fmt.Sprintf("%s  dtls:\n    listen: [\"%s\"]\n    keys: {admin: adminkey}\n    admins: [admin]\n", PigwConfig(a), dtlsAddr)
	}, "--update-root", root, "--update-slot", slot)
	p, err := dev.Start(ctx, dir, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	url := "coaps://" + dtlsAddr.String()
	start := time.Now()
	err = run(exec.CommandContext(ctx, bin, "update", "--download-only", "--identity", "admin", "--psk", "adminkey", url, bundles[0]))
	row("pigw update -> pigw", time.Since(start), err)
	if client, lerr := exec.LookPath("coap-client-openssl"); lerr != nil {
		loud(out, "libcoap NOT BENCHMARKED: coap-client-openssl not found (Debian package libcoap3-bin)", "")
	} else {
		start = time.Now()
		err = libcoapPut(exec.CommandContext(ctx, client, "-m", "put", "-b", "1024", "-B", "120", "-u", "admin", "-k", "adminkey", "-f", bundles[1], url+"/sys/update"))
		row("coap-client-openssl -> pigw", time.Since(start), err)
		p.Stop()
		laddr, err := FreeUDPPortPair()
		if err != nil {
			b.Fatal(err)
		}
		lp, err := LibcoapDTLS().Start(ctx, dir, laddr)
		if err != nil {
			loud(out, "libcoap server NOT BENCHMARKED: "+firstLine(err.Error()), err.Error())
			return
		}
		defer lp.Stop()
		start = time.Now()
		err = libcoapPut(exec.CommandContext(ctx, client, "-m", "put", "-b", "1024", "-B", "120", "-u", BenchIdentity, "-k", BenchKey, "-f", bundles[1], "coaps://"+DTLSAddr(lp).String()+"/upload"))
		row("coap-client-openssl -> libcoap", time.Since(start), err)
	}
}

func run(cmd *exec.Cmd) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// libcoapPut runs coap-client with -v 6, which prints the answers: the last one's code must
// be 2.xx.
func libcoapPut(cmd *exec.Cmd) error {
	cmd.Args = append(cmd.Args[:1], append([]string{"-v", "6"}, cmd.Args[1:]...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, tailString(string(out)))
	}
	codes := ackCode.FindAllStringSubmatch(string(out), -1)
	if len(codes) == 0 || !strings.HasPrefix(codes[len(codes)-1][1], "2.") {
		return fmt.Errorf("no 2.xx answer: %s", tailString(string(out)))
	}
	return nil
}

var ackCode = regexp.MustCompile(`t:ACK c:(\d\.\d\d)`)

func tailString(s string) string {
	if len(s) > 300 {
		s = s[len(s)-300:]
	}
	return strings.TrimSpace(s)
}
