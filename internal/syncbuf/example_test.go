package syncbuf_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/pigw/pigw/internal/syncbuf"
)

func Example() {
	var buf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { log.Info("sample", "sensor", i) })
	}
	wg.Wait()
	fmt.Println(strings.Count(buf.String(), "msg=sample"))
	// Output: 3
}
