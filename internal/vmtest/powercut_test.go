package vmtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

// powerCutRounds is how many cuts TestPigwPowerCut makes: $PIGW_POWERCUT_ROUNDS, default 20
// (about 3 minutes under TCG; make test-powercut runs 100).
func powerCutRounds(t *testing.T) int {
	v := os.Getenv("PIGW_POWERCUT_ROUNDS")
	if v == "" {
		return 20
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxCutRounds {
		t.Fatalf("PIGW_POWERCUT_ROUNDS=%q: want a number of cuts from 1 to %d", v, maxCutRounds)
	}
	return n
}

// Each round creates createsPerRound resources; with the configured resource1 and the two
// updated ones they stay under coap.limits.max_resources (512).
const (
	createsPerRound = 3
	maxCutRounds    = 160
)

// written is what the host knows of one resource's writes: the highest value the guest
// acknowledged, and the highest one sent (an unanswered PUT may have been stored).
type written struct{ acked, sent int }

// cutState is shared by the round's writers and the checks, under mu.
type cutState struct {
	mu       sync.Mutex
	res      map[string]*written
	next     int // values are unique over all resources and rounds, and grow
	inFlight atomic.Int32
}

// put sends one PUT of the next value to uri and records what came of it. It returns the
// answer's code, or an error when none came.
func (c *cutState) put(s *coap.Session, uri string) (coap.Code, error) {
	c.mu.Lock()
	c.next++
	v := c.next
	w := c.res[uri]
	if w == nil {
		w = &written{}
		c.res[uri] = w
	}
	w.sent = v
	c.mu.Unlock()
	req := coap.NewRequest(coap.PUT, uri)
	req.Payload = []byte(strconv.Itoa(v))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	c.inFlight.Add(1)
	r, err := s.Do(ctx, req)
	c.inFlight.Add(-1)
	cancel()
	if err == nil && (r.Code == coap.Code(65) || r.Code == coap.Changed) { // 2.01, 2.04
		c.mu.Lock()
		w.acked = max(w.acked, v)
		c.mu.Unlock()
	}
	return r.Code, err
}

// check GETs each of uris: a resource with an acknowledged write is there, and holds that
// value or a later one that was sent (whole: a number, not a torn write).
func (c *cutState) check(t *testing.T, s *coap.Session, when string, uris []string) {
	t.Helper()
	for _, uri := range uris {
		c.mu.Lock()
		var w written
		if p := c.res[uri]; p != nil { // nil: the round was cut before a PUT to it
			w = *p
		}
		c.mu.Unlock()
		if w.acked == 0 {
			continue
		}
		r := until(t, s, coap.NewRequest(coap.GET, uri), 30*time.Second)
		got, err := strconv.Atoi(string(r.Payload))
		if r.Code != coap.Content || err != nil || got < w.acked || got > w.sent {
			t.Errorf("%s: %s is %s %q; acknowledged %d, sent up to %d", when, uri, r.Code, r.Payload, w.acked, w.sent)
		}
	}
}

// TestPigwPowerCut cuts the power (kills QEMU) while clients write, again and again on the same
// /perm: two writers update a resource each, a third creates resources by PUT and then updates
// the last one. Every round must get writes acknowledged, and the cut comes at a random moment
// up to 1.5 s after the round's first acknowledgement, with PUTs in flight. At the next boot,
// every write acknowledged before any cut is there (checked for the resources the round
// before wrote, and for all at the end), and the appliance says it recovered its state.
func TestPigwPowerCut(t *testing.T) {
	rounds := powerCutRounds(t)
	perm, bootDisk := disks(t, "")
	c := &cutState{res: map[string]*written{}}
	start := time.Now()
	var boots []time.Duration
	totalAcked := 0
	var touched []string // what the round before wrote
	for round := range rounds {
		booted := time.Now()
		vm := bootPigw(t, perm, bootDisk)
		s := session(t, vm, false)
		until(t, s, coap.NewRequest(coap.GET, "resource1"), 60*time.Second)
		boots = append(boots, time.Since(booted))
		c.check(t, s, fmt.Sprintf("round %d", round), touched)
		if round > 0 && !strings.Contains(vm.Console(), `msg="state recovered"`) {
			t.Errorf("round %d: the appliance did not say what it recovered", round)
		}
		if t.Failed() {
			t.FailNow()
		}

		uris := []string{"cut/a", "cut/b"}
		for i := range createsPerRound {
			uris = append(uris, fmt.Sprintf("cut/n%d-%d", round, i))
		}
		acks := make(chan struct{}, 1)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var answers sync.Map // code → count, for the log
		writer := func(next func(i int) string) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, err := c.put(s, next(i))
				if err != nil {
					continue // no answer: the cut, or a lost datagram
				}
				n, _ := answers.LoadOrStore(code, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
				if code == coap.Code(65) || code == coap.Changed {
					select {
					case acks <- struct{}{}:
					default:
					}
				}
			}
		}
		wg.Add(3)
		go writer(func(int) string { return uris[0] })
		go writer(func(int) string { return uris[1] })
		go writer(func(i int) string { return uris[2+min(i, createsPerRound-1)] })
		select {
		case <-acks:
		case <-time.After(30 * time.Second):
			close(stop)
			wg.Wait()
			t.Fatalf("round %d: no write acknowledged within 30 s\n%s", round, vm.Console())
		}
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
		inFlight := c.inFlight.Load()
		vm.Kill() // the power cut
		close(stop)
		wg.Wait()

		codes := map[string]int32{}
		answers.Range(func(k, v any) bool {
			code, n := k.(coap.Code), v.(*atomic.Int32).Load()
			codes[code.String()] = n
			if code == coap.Code(65) || code == coap.Changed {
				totalAcked += int(n)
			} else {
				t.Errorf("round %d: %d PUTs answered %s", round, n, code)
			}
			return true
		})
		if inFlight == 0 {
			t.Errorf("round %d: the cut came with no PUT in flight", round)
		}
		t.Logf("round %d: boot to first answer %s; answers %v; %d PUTs in flight at the cut", round, boots[round].Round(10*time.Millisecond), codes, inFlight)
		touched = uris
	}
	vm := bootPigw(t, perm, bootDisk)
	s := session(t, vm, false)
	until(t, s, coap.NewRequest(coap.GET, "resource1"), 60*time.Second)
	c.mu.Lock()
	all := make([]string, 0, len(c.res))
	for u := range c.res {
		all = append(all, u)
	}
	c.mu.Unlock()
	slices.Sort(all)
	c.check(t, s, "after the last cut", all)
	slices.Sort(boots)
	t.Logf("%d cuts, %d writes acknowledged, %d resources checked at the end, in %s; boot to first answer median %s, max %s",
		rounds, totalAcked, len(all), time.Since(start).Round(time.Second), boots[len(boots)/2].Round(10*time.Millisecond), boots[len(boots)-1].Round(10*time.Millisecond))
}
