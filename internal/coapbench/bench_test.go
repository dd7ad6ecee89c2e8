//go:build linux

package coapbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkCompare loads `pigw run` and libcoap's coap-server-notls with the
// same closed-loop generator and prints a table of figures and one line per
// target. It runs once whatever b.N is, and never fails on a target: run it
// with
//
//	go test -run '^$' -bench Compare -benchtime 1x -timeout 30m ./internal/coapbench/
//
// Environment (defaults in brackets):
//
//	PIGW_BENCH_ROUND    length of a throughput round [5s]
//	PIGW_BENCH_ROUNDS   throughput rounds per server [3]
//	PIGW_BENCH_LONG     length of the stability run [60s]
//	PIGW_BENCH_WINDOW   width of the stability windows [4s]
//	PIGW_BENCH_SOCKETS  client sockets [64]
//	PIGW_BENCH_SERVERS  servers to run, comma-separated [pigw,libcoap]
//	PIGW_BENCH_PIGW_BIN pigw binary to run instead of building ./cmd/pigw
func BenchmarkCompare(b *testing.B) {
	cfg := benchConfig{
		round:   envDuration(b, "PIGW_BENCH_ROUND", 5*time.Second),
		rounds:  envInt(b, "PIGW_BENCH_ROUNDS", 3),
		long:    envDuration(b, "PIGW_BENCH_LONG", 60*time.Second),
		window:  envDuration(b, "PIGW_BENCH_WINDOW", 4*time.Second),
		sockets: envInt(b, "PIGW_BENCH_SOCKETS", 64),
		head:    4 * time.Second,
	}
	want := map[string]bool{"pigw": true, "libcoap": true}
	if v := os.Getenv("PIGW_BENCH_SERVERS"); v != "" {
		want = map[string]bool{}
		for s := range strings.SplitSeq(v, ",") {
			want[strings.TrimSpace(s)] = true
		}
	}
	out := os.Stdout
	ctx := b.Context()

	printMachine(out)

	var servers []Server
	pigwMissing := ""
	if want["pigw"] {
		bin := os.Getenv("PIGW_BENCH_PIGW_BIN")
		var err error
		if bin == "" {
			fmt.Fprintf(out, "building ./cmd/pigw ...\n")
			bin, err = BuildPigw(ctx, b.TempDir())
		}
		if err != nil {
			pigwMissing = "pigw NOT BENCHMARKED: " + firstLine(err.Error())
			loud(out, pigwMissing, err.Error()+"\nonly libcoap runs: the figures below compare NOTHING")
		} else {
			fmt.Fprintf(out, "pigw:    %s\n", bin)
			servers = append(servers, Pigw(bin))
		}
	}
	if want["libcoap"] {
		if _, err := exec.LookPath("coap-server-notls"); err != nil {
			loud(out, "libcoap NOT BENCHMARKED: coap-server-notls not found (Debian package libcoap3-bin)", "")
		} else {
			servers = append(servers, Libcoap())
		}
	}
	if len(servers) == 0 {
		b.Skip("no server to benchmark")
	}

	// problem prints a loud line; for pigw it is repeated with the targets.
	problem := func(name, what string, err error) {
		head := name + " " + what + firstLine(err.Error())
		loud(out, head, err.Error())
		if name == "pigw" && pigwMissing == "" {
			pigwMissing = head
		}
	}

	results := map[string]*serverResult{}
	for _, s := range servers {
		results[s.Name] = &serverResult{}
	}

	// a. Throughput: fresh servers, rounds alternating between them.
	fmt.Fprintf(out, "\n== Throughput: %d sockets, closed loop, CON GET /%s (%d B), %d rounds x %v per server, alternating\n",
		cfg.sockets, BenchPath, len(BenchPayload), cfg.rounds, cfg.round)
	procs := map[string]*Process{}
	for _, s := range servers {
		p, err := startServer(ctx, b, s)
		if err != nil {
			problem(s.Name, "NOT BENCHMARKED: did not start: ", err)
			results[s.Name].failed = true
			continue
		}
		procs[s.Name] = p
	}
	fmt.Fprintf(out, "%-8s %5s %11s %9s %6s %6s %6s %9s %9s\n", "server", "round", "resp/s", "requests", "t/o", "bad", "err", "mean RTT", "VmRSS max")
	for round := 1; round <= cfg.rounds; round++ {
		for _, s := range servers {
			p, res := procs[s.Name], results[s.Name]
			if p == nil || res.failed {
				continue
			}
			r, rss, err := load(ctx, p, cfg, cfg.round, time.Second)
			if err != nil {
				problem(s.Name, "run aborted: ", err)
				res.failed = true
				continue
			}
			res.rounds = append(res.rounds, r.Rate)
			res.rssLoad = max(res.rssLoad, rss)
			fmt.Fprintf(out, "%-8s %5d %11.0f %9d %6d %6d %6d %9s %9s\n", s.Name, round, r.Rate, r.Requests,
				r.Timeouts, r.Bad, r.Errors, r.MeanRTT.Round(time.Microsecond), mb(rss))
		}
	}
	for _, p := range procs {
		p.Stop()
	}
	for _, s := range servers {
		if res := results[s.Name]; len(res.rounds) > 0 {
			res.median = median(res.rounds)
			fmt.Fprintf(out, "%-8s median %10.0f resp/s\n", s.Name, res.median)
		}
	}
	pg, lc := results["pigw"], results["libcoap"]
	if pg != nil && lc != nil && pg.median > 0 && lc.median > 0 {
		fmt.Fprintf(out, "ratio pigw/libcoap: %.3f\n", pg.median/lc.median)
	}

	// b. Stability and c. memory: one long run against each fresh server.
	fmt.Fprintf(out, "\n== Stability: one %v run per fresh server, %d sockets; rates in resp/s\n", cfg.long, cfg.sockets)
	for _, s := range servers {
		res := results[s.Name]
		if res.failed && len(res.rounds) == 0 {
			continue
		}
		p, err := startServer(ctx, b, s)
		if err != nil {
			problem(s.Name, "stability run skipped: did not start: ", err)
			continue
		}
		r, rss, err := load(ctx, p, cfg, cfg.long, cfg.window)
		if err != nil {
			problem(s.Name, "run aborted: ", err)
			p.Stop()
			continue
		}
		time.Sleep(2 * time.Second) // idle
		res.rssIdle, res.hwm = RSS(p.Pid())
		p.Stop()
		res.long, res.longRSS, res.haveLong = r, rss, true
	}
	fmt.Fprintf(out, "%-8s %11s %11s %8s %6s %6s %6s\n", "server", "first "+short(min(cfg.head, cfg.long)), "whole "+short(cfg.long), "change", "t/o", "bad", "err")
	for _, s := range servers {
		if res := results[s.Name]; res.haveLong {
			r := res.long
			fmt.Fprintf(out, "%-8s %11.0f %11.0f %+7.1f%% %6d %6d %6d\n", s.Name, r.HeadRate, r.Rate,
				change(r.HeadRate, r.Rate), r.Timeouts, r.Bad, r.Errors)
		}
	}
	fmt.Fprintf(out, "per-%v windows:\n", cfg.window)
	for _, s := range servers {
		if res := results[s.Name]; res.haveLong {
			fmt.Fprintf(out, "%-8s", s.Name)
			for _, w := range res.long.Windows {
				fmt.Fprintf(out, " %.0f", w)
			}
			fmt.Fprintln(out)
		}
	}

	fmt.Fprintf(out, "\n== Memory (MB = 2^20 bytes)\n")
	fmt.Fprintf(out, "%-8s %22s %22s %19s %14s\n", "server", "VmRSS max, throughput", "VmRSS max, long run", "VmRSS idle after", "VmHWM, long")
	for _, s := range servers {
		if res := results[s.Name]; res.haveLong || len(res.rounds) > 0 {
			fmt.Fprintf(out, "%-8s %22s %22s %19s %14s\n", s.Name, mb(res.rssLoad), mb(res.longRSS), mb(res.rssIdle), mb(res.hwm))
		}
	}

	// Targets (informational only).
	fmt.Fprintf(out, "\n== Targets (informational; the benchmark never fails on them)\n")
	na := func(what string) {
		why := "pigw not run"
		if pigwMissing != "" {
			why = pigwMissing
		}
		fmt.Fprintf(out, "TARGET %-44s n/a  (%s)\n", what, firstLine(why))
	}
	const tThroughput = "throughput pigw >= libcoap"
	switch {
	case pg != nil && lc != nil && pg.median > 0 && lc.median > 0:
		fmt.Fprintf(out, "TARGET %-44s %s (pigw %.0f vs libcoap %.0f resp/s, ratio %.3f)\n", tThroughput,
			verdict(pg.median >= lc.median), pg.median, lc.median, pg.median/lc.median)
		b.ReportMetric(pg.median/lc.median, "pigw/libcoap")
	case pg == nil || pg.median == 0:
		na(tThroughput)
	default:
		fmt.Fprintf(out, "TARGET %-44s n/a  (libcoap not run)\n", tThroughput)
	}
	tStable := fmt.Sprintf("rate over %s within 10%% of first %s", short(cfg.long), short(min(cfg.head, cfg.long)))
	if pg != nil && pg.haveLong {
		c := change(pg.long.HeadRate, pg.long.Rate)
		fmt.Fprintf(out, "TARGET %-44s %s (%.0f vs %.0f resp/s, %+.1f%%)\n", tStable, verdict(math.Abs(c) <= 10),
			pg.long.Rate, pg.long.HeadRate, c)
		b.ReportMetric(c, "pigw-long-change-%")
	} else {
		na(tStable)
	}
	const tRSS = "pigw RSS under load < 40 MB"
	if pg != nil && pg.haveLong {
		peak := max(pg.hwm, pg.longRSS)
		fmt.Fprintf(out, "TARGET %-44s %s (VmHWM %s MB, VmRSS max sampled %s MB)\n", tRSS, verdict(peak < 40<<20),
			mb(pg.hwm), mb(pg.longRSS))
		b.ReportMetric(float64(peak)/(1<<20), "pigw-peak-RSS-MB")
	} else {
		na(tRSS)
	}
	if pigwMissing != "" {
		loud(out, pigwMissing, "")
	}
	for name, res := range results {
		if res.median > 0 {
			b.ReportMetric(res.median, name+"-resp/s")
		}
	}
}

type benchConfig struct {
	round, long, window, head time.Duration
	rounds, sockets           int
}

type serverResult struct {
	failed   bool
	rounds   []float64
	median   float64
	rssLoad  int64 // max VmRSS sampled in the throughput rounds
	long     Result
	haveLong bool
	longRSS  int64 // max VmRSS sampled in the long run
	rssIdle  int64
	hwm      int64
}

func startServer(ctx context.Context, b *testing.B, s Server) (*Process, error) {
	addr, err := FreeUDPPort()
	if err != nil {
		return nil, err
	}
	p, err := s.Start(ctx, b.TempDir(), addr)
	if err != nil {
		return nil, err
	}
	b.Cleanup(p.Stop)
	return p, nil
}

// load runs the generator against p for d while sampling p's VmRSS.
func load(ctx context.Context, p *Process, cfg benchConfig, d, window time.Duration) (Result, int64, error) {
	stop := SampleRSS(p.Pid(), 100*time.Millisecond)
	r, err := Run(ctx, Options{Addr: p.Addr, Path: BenchPath, Sockets: cfg.sockets, Duration: d,
		Window: window, Head: cfg.head, ExpectLen: len(BenchPayload)})
	rss := stop()
	if exited, werr := p.Exited(); exited {
		return r, rss, fmt.Errorf("server exited under load (%v)\n--- output of %s ---\n%s", werr, p.Log, tail(p.Log))
	}
	if err == nil && r.Responses == 0 {
		err = fmt.Errorf("no good response in %v (requests %d, timeouts %d, bad %d, errors %d)",
			d, r.Requests, r.Timeouts, r.Bad, r.Errors)
	}
	return r, rss, err
}

func printMachine(out io.Writer) {
	fmt.Fprintf(out, "== Machine\n")
	nproc := strconv.Itoa(runtime.NumCPU())
	if o, err := exec.Command("nproc").Output(); err == nil {
		nproc = strings.TrimSpace(string(o))
	}
	fmt.Fprintf(out, "nproc:   %s (GOMAXPROCS of the load generator %d)\n", nproc, runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "cpu:     %s\n", cpuModel())
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		fmt.Fprintf(out, "kernel:  %s\n", strings.TrimSpace(string(b)))
	}
	fmt.Fprintf(out, "go:      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "libcoap: %s\n", libcoapVersion())
	fmt.Fprintf(out, "load:    this process, on the same CPUs as the server under test; traffic on 127.0.0.1 only\n")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func libcoapVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o, _ := exec.CommandContext(ctx, "coap-server-notls", "-h").CombinedOutput() // -h without argument prints usage
	for line := range strings.SplitSeq(string(o), "\n") {
		if strings.HasPrefix(line, "coap-server-notls v") {
			return strings.TrimSpace(line)
		}
	}
	return "unknown (coap-server-notls not found?)"
}

func loud(out io.Writer, headline, detail string) {
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(out, "%s\n!!! %s\n", bar, headline)
	if detail != "" && detail != headline {
		for line := range strings.SplitSeq(strings.TrimSpace(detail), "\n") {
			fmt.Fprintf(out, "!!!   %s\n", line)
		}
	}
	fmt.Fprintf(out, "%s\n", bar)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// change is the change from head to whole in percent of head.
func change(head, whole float64) float64 {
	if head == 0 {
		return math.NaN()
	}
	return (whole - head) / head * 100
}

func mb(n int64) string {
	if n < 0 {
		return "?"
	}
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(n)/(1<<20))
}

func short(d time.Duration) string { return fmt.Sprintf("%gs", d.Seconds()) }

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 5s", name, v)
	}
	return d
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
