package interop

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestCrashPersistence PUTs increasing values to several dynamic resources
// while pigw is SIGKILLed at a random moment, three times over: after each
// restart every resource holds its last acknowledged value, or a later one
// that was sent but whose answer was lost with the process.
func TestCrashPersistence(t *testing.T) {
	t.Parallel()
	s := startServer(t, seedConfig(""))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	const nres = 4
	type progress struct {
		acked, sent int // 0: none
	}
	state := make([]progress, nres)
	next := 1 // values only ever grow, across rounds

	for round := range 3 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		stop := make(chan struct{})
		start := next
		for i := range nres {
			c := dialRaw(t, s.listen[0])
			wg.Go(func() {
				for k := range 3000 { // bounded; the kill ends it much sooner
					select {
					case <-stop:
						return
					default:
					}
					v := start + k
					mu.Lock()
					state[i].sent = v
					mu.Unlock()
					r, err := c.do(request(0, codes.PUT, fmt.Sprintf("crash/r%d", i), []byte(strconv.Itoa(v)),
						contentFormat(message.TextPlain)), 300*time.Millisecond, 3)
					if err != nil {
						return // the server is gone
					}
					if r.Code != codes.Created && r.Code != codes.Changed {
						t.Errorf("PUT crash/r%d %d: %v", i, v, r.Code)
						return
					}
					mu.Lock()
					state[i].acked = v
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond)
		s.Kill()
		close(stop)
		wg.Wait()
		if t.Failed() {
			return
		}
		total := 0
		for i := range state {
			total += state[i].acked
			next = max(next, state[i].sent+1)
		}
		if total == 0 {
			t.Fatalf("round %d: no PUT was acknowledged before the kill", round)
		}
		if err := s.launch(); err != nil {
			t.Fatalf("round %d: restart after SIGKILL: %v", round, err)
		}
		c := dialRaw(t, s.listen[0])
		for i, p := range state {
			r, err := c.do(request(0, codes.GET, fmt.Sprintf("crash/r%d", i), nil), time.Second, 3)
			if err != nil {
				t.Fatalf("round %d: GET crash/r%d after restart: %v", round, i, err)
			}
			if r.Code == codes.NotFound && p.acked == 0 {
				continue
			}
			got, err := strconv.Atoi(string(r.Payload))
			if r.Code != codes.Content || err != nil || got < p.acked || got > p.sent {
				t.Errorf("round %d: crash/r%d after SIGKILL and restart: %v %q; last acknowledged %d, last sent %d",
					round, i, r.Code, r.Payload, p.acked, p.sent)
			}
			t.Logf("round %d: crash/r%d = %d (acked %d, sent %d)", round, i, got, p.acked, p.sent)
		}
	}
}
