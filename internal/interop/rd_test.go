package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/freeport"
)

// TestRDSmokeNotConformance registers pigw with libcoap's coap-rd-notls (4.3.1), a small
// Resource Directory: a smoke test that the registration reaches a directory that is not
// pigw's and lists pigw's resources there, not a test of RFC 9176 conformance (coap-rd has
// no lookup interface, answers an Update with 4.05, and its DELETE of a registration crashes
// it with a double free, so the directory is stopped before pigw de-registers).
func TestRDSmokeNotConformance(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "coap-rd-notls", "libcoap3-bin")
	var rd *libcoapServer
	for range 5 {
		port := freePort(t)
		var err error
		if rd, err = launchLibcoap(t, nil, bin, []string{"-A", "127.0.0.1", "-p", fmt.Sprint(port), "-v", "7"}, "127.0.0.1", port); err == nil {
			break
		}
		t.Logf("coap-rd-notls: %v", err)
	}
	if rd == nil {
		t.Fatal("coap-rd-notls did not start")
	}
	web := fmt.Sprintf("127.0.0.1:%d", freeport.MustTCP(t))
	gw := startServer(t, seedConfig("")+fmt.Sprintf("rd:\n  server: coap://%s\n  endpoint: pigw-rd-smoke\n  lifetime: 60s\nweb:\n  listen: [%q]\n", rd.Addr(), web))

	// pigw found the registration resource, </rd>, by rt=core.rd, and told the directory where
	// its resources are: the address it reaches the directory from, and its CoAP port.
	base := fmt.Sprintf("coap://127.0.0.1:%d", gw.port)
	gw.waitLog(regexp.MustCompile(`msg="registering with the resource directory" .*path=rd endpoint=pigw-rd-smoke base=`+regexp.QuoteMeta(base)), 10*time.Second)
	if !rd.traceHas("Uri-Query:ep=pigw-rd-smoke, Uri-Query:lt=60, Uri-Query:base=" + base) {
		t.Errorf("coap-rd's trace shows no Register with ep, lt and base=%s", base)
	}

	// The directory lists the registration, and the registration holds pigw's links.
	var loc string
	for deadline := time.Now().Add(10 * time.Second); loc == "" && time.Now().Before(deadline); {
		r := coapClient(t, "-m", "get", rd.URL(".well-known/core"))
		if m := regexp.MustCompile(`</(rd/[^>]+)>`).FindStringSubmatch(r.Last(t).Payload); m != nil {
			loc = m[1]
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if loc == "" {
		t.Fatal("coap-rd's /.well-known/core lists no registration")
	}
	links := coapClient(t, "-m", "get", rd.URL(loc)).Last(t).Payload
	for _, want := range []string{"</resource1>", "</resource2>"} {
		if !strings.Contains(links, want) {
			t.Errorf("the registration %s holds %q, without %s", loc, links, want)
		}
	}
	if strings.Contains(links, "</sys") {
		t.Errorf("the registration %s lists hidden resources: %q", loc, links)
	}

	// /sys/rd on pigw says so.
	var st struct {
		Registered bool
		Location   string
		Endpoint   string
	}
	r := coapClient(t, "-m", "get", gw.URL("sys/rd"))
	if err := json.Unmarshal([]byte(r.Last(t).Payload), &st); err != nil || !st.Registered || st.Location != loc || st.Endpoint != "pigw-rd-smoke" {
		t.Errorf("/sys/rd: %+v (%v), want registered at %s as pigw-rd-smoke\n%s", st, err, loc, r.Last(t).Payload)
	}
	// And the status page.
	resp, err := http.Get("http://" + web + "/api/registrations")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page []struct {
		Kind, Location string
		Registered     bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page) != 1 || page[0].Kind != "rd" || !page[0].Registered || page[0].Location != loc {
		t.Errorf("/api/registrations: %+v (%v), want the rd registration at %s", page, err, loc)
	}
	rd.stop() // before pigw's De-register: coap-rd 4.3.1 crashes on DELETE
}
