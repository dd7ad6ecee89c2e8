package interop

import (
	"regexp"
	"testing"
	"time"
)

var stateRecovered = regexp.MustCompile(`msg="state recovered" .*values=(\d+) dynamic_resources=(\d+) deleted=(\d+)`)

// TestPersistence writes, stops pigw with SIGTERM, starts it again on the
// same state directory and checks everything written came back.
func TestPersistence(t *testing.T) {
	t.Parallel()
	s := startServer(t, seedConfig(""))
	if stateRecovered.MatchString(s.Log()) {
		t.Errorf("fresh state directory, yet: %s", stateRecovered.FindString(s.Log()))
	}
	step := func(code string, args ...string) {
		t.Helper()
		check(t, coapClient(t, args...), code, nil, nil)
	}
	step("2.04", "-m", "post", "-e", "posted-value", "-t", "text/plain", s.URL("resource1"))
	step("2.01", "-m", "put", "-e", "xy-1", "-t", "text/plain", s.URL("x/y"))
	s.waitLog(regexp.MustCompile(`msg="New resource has been created!" uri=x/y `), 5*time.Second)
	waitGET(t, s.URL("x/y"), func(p pdu) bool { return optOr(p, "ETag") == "0x01" })
	step("2.04", "-m", "put", "-e", "xy-2", "-t", "text/plain", s.URL("x/y")) // ETag 2
	step("2.04", "-m", "put", "-e", "xy-3", "-t", "text/plain", s.URL("x/y")) // ETag 3
	for i, v := range []string{"<one/>", "<two/>", "<three/>", "<four/>"} {
		r := coapClient(t, "-m", "put", "-e", v, "-t", "application/xml", s.URL("resource2"))
		check(t, r, "2.04", nil, map[string]string{"ETag": "0x0" + string(rune('2'+i))})
	}
	step("2.01", "-m", "put", "-e", "gone", s.URL("tmp/gone"))
	step("2.02", "-m", "delete", s.URL("tmp/gone"))

	expect := func(t *testing.T, values, dynamic, deleted string, resource2 bool) {
		t.Helper()
		m := stateRecovered.FindStringSubmatch(s.Log())
		if m == nil {
			t.Errorf("no \"state recovered\" line after restart:\n%s", s.Log())
		} else if m[1] != values || m[2] != dynamic || m[3] != deleted {
			t.Errorf("%s\nwant values=%s dynamic_resources=%s deleted=%s", m[0], values, dynamic, deleted)
		}
		check(t, coapClient(t, s.URL("resource1")), "2.05", ptr("posted-value"), map[string]string{"Content-Format": "text/plain"})
		check(t, coapClient(t, s.URL("x/y")), "2.05", ptr("xy-3"),
			map[string]string{"Content-Format": "text/plain", "Max-Age": "100", "ETag": "0x03"})
		check(t, coapClient(t, s.URL("tmp/gone")), "4.04", nil, nil)
		if resource2 {
			check(t, coapClient(t, s.URL("resource2")), "2.05", ptr("<four/>"),
				map[string]string{"ETag": "0x05", "Content-Format": "application/xml"})
		} else {
			check(t, coapClient(t, s.URL("resource2")), "4.04", nil, nil)
		}
		r := coapClient(t, s.URL(".well-known/core"))
		want := `</resource1>;title="resource1";ct=0;obs,</x/y>;ct=0;obs`
		if resource2 {
			want = `</resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs,</x/y>;ct=0;obs`
		}
		check(t, r, "2.05", ptr(want), nil)
	}

	s.Restart()
	t.Run("after first restart", func(t *testing.T) { expect(t, "2", "1", "0", true) })

	// The ETag counters carry on from where they were.
	r := coapClient(t, "-m", "put", "-e", "xy-4", "-t", "text/plain", s.URL("x/y"))
	check(t, r, "2.04", nil, map[string]string{"ETag": "0x04"})
	r = coapClient(t, "-m", "put", "-e", "<four/>", "-t", "application/xml", "-O", "1,0x05", s.URL("resource2"))
	check(t, r, "2.04", nil, map[string]string{"ETag": "0x06"})
	check(t, coapClient(t, "-m", "put", "-e", "xy-3", "-t", "text/plain", s.URL("x/y")), "2.04", nil, nil) // ETag 5
	check(t, coapClient(t, "-m", "delete", s.URL("resource2")), "2.02", nil, nil)

	s.Restart()
	t.Run("after second restart", func(t *testing.T) {
		m := stateRecovered.FindStringSubmatch(s.Log())
		if m == nil || m[1] != "1" || m[2] != "1" || m[3] != "1" {
			t.Errorf("recovered line %q, want values=1 dynamic_resources=1 deleted=1", m)
		}
		check(t, coapClient(t, s.URL("resource2")), "4.04", nil, nil)
		check(t, coapClient(t, s.URL("x/y")), "2.05", ptr("xy-3"), map[string]string{"ETag": "0x05"})
		check(t, coapClient(t, s.URL("resource1")), "2.05", ptr("posted-value"), nil)
	})

	// And a third time: a deleted configured resource stays deleted.
	s.Restart()
	t.Run("after third restart", func(t *testing.T) {
		check(t, coapClient(t, s.URL("resource2")), "4.04", nil, nil)
		check(t, coapClient(t, "-m", "put", "-e", "<back/>", s.URL("resource2")), "2.01", nil, nil)
		check(t, coapClient(t, s.URL("resource2")), "2.05", ptr("<back/>"), nil)
	})
}
