package lwm2m

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestObserveCost: the heap and goroutines one observed resource costs (printed, not
// asserted), over n sensor instances each observed once; every one of them is then notified
// by one reading of its own.
func TestObserveCost(t *testing.T) {
	const n = 60 // a Register of more instances needs Block1, which the test's peer does not take
	qs := make([]Quantity, n)
	for i := range qs {
		qs[i] = Quantity{Sensor: fmt.Sprintf("s%d", i), Name: "temperature", Unit: "Cel"}
	}
	sensors, err := NewSensors(qs)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		sensors.Reading(q.Sensor, q.Name, 20)
	}
	_, p := servedTree(t, sensors.Objects()...)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// Each request leaves its answer in the deduplication cache for EXCHANGE_LIFETIME; n
	// plain Reads measure that part, which the observations' share leaves out.
	h0 := heap()
	for i := range n {
		if m := p.do(codes.GET, fmt.Sprintf("3303/%d/5701", i), nil); m.Code != codes.Content {
			t.Fatalf("read /3303/%d/5701: %v", i, m.Code)
		}
	}
	h1, g1 := heap(), runtime.NumGoroutine()
	for i := range n {
		m := p.do(codes.GET, fmt.Sprintf("3303/%d/5700", i), nil, observe(0), accept(coap.TextPlain))
		if m.Code != codes.Content || !m.Options.HasOption(message.Observe) {
			t.Fatalf("observe /3303/%d/5700: %v", i, m.Code)
		}
	}
	h2, g2 := heap(), runtime.NumGoroutine()
	read, obs := int64(h1)-int64(h0), int64(h2)-int64(h1)
	t.Logf("%d Reads: heap %+d bytes; %d observations: heap %+d bytes, %.0f per observation beyond a Read's; goroutines %+d",
		n, read, n, obs, float64(obs-read)/n, g2-g1)
	for _, q := range qs {
		sensors.Reading(q.Sensor, q.Name, 21)
	}
	seen := map[string]bool{}
	for len(seen) < n {
		r, ok := p.note(5 * time.Second)
		if !ok {
			t.Fatalf("%d of %d observations notified", len(seen), n)
		}
		seen[string(r.m.Token)] = true
	}
}
