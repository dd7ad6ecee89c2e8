package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pigw/pigw/appliance/supervisor"
)

// A subsystem that fails once is started again after the back-off; its state counts it.
func ExampleSupervisor() {
	s := supervisor.New(slog.New(slog.DiscardHandler), nil)
	s.MinBackoff = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	failed := false
	s.Run(ctx, supervisor.Func{N: "coap", F: func(ctx context.Context) error {
		if !failed {
			failed = true
			return errors.New("listen on 0.0.0.0:5683: address already in use")
		}
		cancel() // a real subsystem would serve until the appliance stops
		return nil
	}})
	st := s.States()[0]
	fmt.Println(st.Name, st.State, st.Restarts, st.LastError)
	// Output: coap stopped 1 listen on 0.0.0.0:5683: address already in use
}
