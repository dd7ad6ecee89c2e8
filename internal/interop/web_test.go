package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/freeport"
	"github.com/pigw/pigw/internal/netnstest"
	"github.com/vishvananda/netns"
)

// webConfig is the seed example with a simulated sensor and the page on addr.
func webConfig(addr string) string {
	return seedConfig("") + "sensors:\n  - {name: room, kind: simulated, interval: 500ms}\nweb:\n  listen: [\"" + addr + "\"]\n"
}

// startWithPage runs pigw with the page on a free port and returns it and the page's URL.
func startWithPage(t *testing.T) (*server, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.MustTCP(t))
	s := startServer(t, webConfig(addr))
	base := "http://" + addr
	waitHTTP(t, http.DefaultClient, base+"/api/system")
	return s, base
}

// waitHTTP waits until url answers (the page is a subsystem of its own, which may start after
// CoAP listens).
func waitHTTP(t *testing.T, c *http.Client, url string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
}

func httpGet(t *testing.T, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestWebPage: pigw run serves the page and its JSON, refuses what is not a GET, and its event
// stream tells of a value a client changed with pigw coap put.
func TestWebPage(t *testing.T) {
	s, base := startWithPage(t)
	resp, page := httpGet(t, http.DefaultClient, "GET", base+"/")
	if resp.StatusCode != 200 || !strings.Contains(page, `data-field="resource:resource1">default_value<`) ||
		!strings.Contains(page, `<section id="sensors">`) || !strings.Contains(page, "Cel") {
		t.Errorf("GET /: %s\n%s", resp.Status, page)
	}
	var st struct {
		System    struct{ Version string }
		Resources []struct{ URI, Value string }
	}
	resp, body := httpGet(t, http.DefaultClient, "GET", base+"/api/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 || len(st.Resources) != 2 || st.System.Version == "" {
		t.Errorf("GET /api/status: %s %v\n%s", resp.Status, err, body)
	}
	if resp, _ := httpGet(t, http.DefaultClient, "POST", base+"/api/status"); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /api/status: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	ev, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Body.Close()
	sc := bufio.NewScanner(ev.Body)
	sc.Buffer(nil, 1<<20)
	waitFor := func(want string) {
		t.Helper()
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), want) {
				return
			}
		}
		t.Fatalf("no event with %s: %v", want, sc.Err())
	}
	waitFor(`"value":"default_value"`)
	start := time.Now()
	if r := pigwCoAP(t, nil, "put", "-e", "put-by-test", s.URL("resource1")); r.Code != 0 {
		t.Fatalf("pigw coap put: %s", r)
	}
	waitFor(`"value":"put-by-test"`)
	t.Logf("pigw coap put to the status event: %v (with the put's own start)", time.Since(start).Round(time.Millisecond))
}

// TestWebDefaultAddress: without a listen, pigw run serves the page on 127.0.0.1:8080 (in a
// namespace of the test's own, so that it takes nobody's port).
func TestWebDefaultAddress(t *testing.T) {
	name, ns, h := netnstest.New(t, "pigwweb-")
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatal(err)
	}
	startServerOn(t, seedConfig("")+"web: {}\n", []string{"127.0.0.1:5683"}, []string{"ip", "netns", "exec", name})
	c := &http.Client{Transport: &http.Transport{DialContext: dialIn(ns)}}
	waitHTTP(t, c, "http://127.0.0.1:8080/")
	if resp, body := httpGet(t, c, "GET", "http://127.0.0.1:8080/api/resources"); resp.StatusCode != 200 || !strings.Contains(body, "default_value") {
		t.Errorf("GET /api/resources: %s\n%s", resp.Status, body)
	}
}

// dialIn dials in the namespace ns.
func dialIn(ns netns.NsHandle) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, err := netns.Get()
		if err != nil {
			return nil, err
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			return nil, err
		}
		defer netns.Set(orig)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}
