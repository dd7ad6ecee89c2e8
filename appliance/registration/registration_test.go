package registration

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestRegister follows one registration from Register to De-register, for an LwM2M server and
// a Resource Directory, with the location in one Location-Path option and in two: Register
// carries the query and the links, Updates go to the location with no query, the stop deletes
// the location.
func TestRegister(t *testing.T) {
	links := `</>;rt="oma.lwm2m";ct="110 112 11542",</1>;ver=1.1,</1/0>,</3/0>,</3303/0>`
	for _, tt := range []struct {
		name      string
		oneOption bool
		params    []string
		query     []string
	}{
		{"LwM2M, Location-Path rd/1", true, []string{"lwm2m=1.1", "b=U"}, []string{"ep=pigw-test", "lt=60", "lwm2m=1.1", "b=U"}},
		{"LwM2M, Location-Path rd and 1", false, []string{"lwm2m=1.1", "b=U"}, []string{"ep=pigw-test", "lt=60", "lwm2m=1.1", "b=U"}},
		{"RD", false, nil, []string{"ep=pigw-test", "lt=60"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := newRegistrar(t, tt.oneOption)
			c := start(t, Config{Conn: session(t, rd.addr, fastSession), Server: "coap://" + rd.addr.String(),
				Params: tt.params, Links: func() []byte { return []byte(links) }})
			reg := rd.next("Register")
			if reg.method != coap.POST || reg.path != "rd" || !slices.Equal(reg.queries, tt.query) {
				t.Errorf("Register %s, want POST rd?%s", reg, strings.Join(tt.query, "&"))
			}
			if reg.format != coap.AppLinkFormat || reg.payload != links {
				t.Errorf("Register payload (format %d) %q, want (40) %q", reg.format, reg.payload, links)
			}
			st := c.until(t, "registered", registered)
			if st.Location != "rd/1" || st.Registrations != 1 || st.Lifetime != 60 || st.Endpoint != "pigw-test" {
				t.Errorf("state after Register: %+v", st)
			}
			for range 2 {
				if up := rd.next("Update"); up.method != coap.POST || up.path != "rd/1" || len(up.queries) != 0 || up.payload != "" {
					t.Errorf("Update %s with %q, want an empty POST rd/1", up, up.payload)
				}
			}
			st = c.until(t, "two updates", func(st State) bool { return st.Updates == 2 })
			t.Logf("bytes on the air: Register %d sent, %d received (%d bytes of links); Update %d sent, %d received",
				st.RegisterBytes.Sent, st.RegisterBytes.Received, len(links), st.UpdateBytes.Sent, st.UpdateBytes.Received)
			if st.RegisterBytes.Sent <= len(links) || st.UpdateBytes.Sent == 0 || st.UpdateBytes.Received == 0 {
				t.Errorf("bytes counted: %+v %+v", st.RegisterBytes, st.UpdateBytes)
			}
			c.stop(t)
			for {
				e := rd.next("De-register")
				if e.method == coap.DELETE {
					if e.path != "rd/1" {
						t.Errorf("De-register %s, want DELETE rd/1", e)
					}
					break
				}
			}
			if st := c.State(); st.Registered || st.Location != "" || st.LastError != "" {
				t.Errorf("state after the stop: %+v", st)
			}
		})
	}
}

// TestUpdateLifetime changes the lifetime: the next Update carries lt= at once, the ones after
// it do not, and they are scheduled by the new lifetime.
func TestUpdateLifetime(t *testing.T) {
	rd := newRegistrar(t, false)
	c := start(t, Config{Conn: session(t, rd.addr, fastSession), Lifetime: 600 * time.Second})
	if reg := rd.next("Register"); !slices.Contains(reg.queries, "lt=600") {
		t.Errorf("Register %s, want lt=600", reg)
	}
	// Updates are due at lt−247 s for lifetimes over 494 s, at lt/2 for shorter ones.
	if st := c.until(t, "registered", registered); st.NextUpdate.Sub(st.LastUpdate) != 353*time.Second {
		t.Errorf("Update due %v after the Register, want 5m53s", st.NextUpdate.Sub(st.LastUpdate))
	}
	if err := c.SetLifetime(120 * time.Second); err != nil {
		t.Fatal(err)
	}
	if up := rd.next("Update with lt"); up.path != "rd/1" || !slices.Equal(up.queries, []string{"lt=120"}) {
		t.Errorf("Update %s, want POST rd/1?lt=120", up)
	}
	if st := c.until(t, "an update", func(st State) bool { return st.Updates == 1 }); st.NextUpdate.Sub(st.LastUpdate) != time.Minute || st.Lifetime != 120 {
		t.Errorf("lifetime %d s, next Update due %v after the last, want 120 s and 1m0s", st.Lifetime, st.NextUpdate.Sub(st.LastUpdate))
	}
	for range 2 {
		if up := rd.next("Update"); up.path != "rd/1" || len(up.queries) != 0 {
			t.Errorf("Update %s, want POST rd/1 without lt", up)
		}
	}
}

// TestSetParam changes a parameter (RD's base= after an address change): an Update carries it
// at once, the ones after it do not, a Register after a loss sends the new value, and setting
// the same value again sends nothing.
func TestSetParam(t *testing.T) {
	rd := newRegistrar(t, false)
	c := start(t, Config{Conn: session(t, rd.addr, fastSession), Lifetime: 86400 * time.Second, Params: []string{"base=coap://10.0.0.2:5683"}})
	if reg := rd.next("Register"); !slices.Contains(reg.queries, "base=coap://10.0.0.2:5683") {
		t.Errorf("Register %s, want base=coap://10.0.0.2:5683", reg)
	}
	c.until(t, "registered", registered)
	c.SetParam("base", "coap://10.0.0.3:5683")
	if up := rd.next("Update with base"); up.path != "rd/1" || !slices.Equal(up.queries, []string{"base=coap://10.0.0.3:5683"}) {
		t.Errorf("Update %s, want POST rd/1?base=coap://10.0.0.3:5683", up)
	}
	c.until(t, "an update", func(st State) bool { return st.Updates == 1 })
	c.SetParam("base", "coap://10.0.0.3:5683")
	c.UpdateNow()
	if up := rd.next("Update"); len(up.queries) != 0 {
		t.Errorf("Update %s, want no query", up)
	}
	rd.forget()
	c.UpdateNow()
	for {
		e := rd.next("Register again")
		if e.path == "rd" {
			if !slices.Contains(e.queries, "base=coap://10.0.0.3:5683") {
				t.Errorf("Register %s after the loss, want the new base", e)
			}
			break
		}
	}
}

// TestUpdateNow asks for Updates long before the lifetime needs one.
func TestUpdateNow(t *testing.T) {
	rd := newRegistrar(t, false)
	c := start(t, Config{Conn: session(t, rd.addr, fastSession), Lifetime: 86400 * time.Second})
	rd.next("Register")
	c.until(t, "registered", registered)
	for i := 1; i <= 2; i++ {
		c.UpdateNow()
		if up := rd.next("Update"); up.method != coap.POST || up.path != "rd/1" || len(up.queries) != 0 {
			t.Errorf("Update %s, want POST rd/1", up)
		}
		c.until(t, "an update", func(st State) bool { return st.Updates == i })
	}
	select {
	case e := <-rd.events:
		t.Errorf("unasked %s", e)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestRegisterAgain answers an Update with an error; the client registers again at once,
// with the links it has then, and updates the new registration.
func TestRegisterAgain(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault func(*registrar)
	}{
		{"server restarted empty (4.04)", func(r *registrar) { r.forget() }},
		{"RD without updates (4.05)", func(r *registrar) { r.answerUpdates(codes.MethodNotAllowed) }},
		{"server error (5.03)", func(r *registrar) { r.answerUpdates(codes.ServiceUnavailable) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := newRegistrar(t, false)
			var links atomic.Value
			links.Store("</1/0>,</3/0>")
			c := start(t, Config{Conn: session(t, rd.addr, fastSession), Lifetime: 86400 * time.Second,
				Links: func() []byte { return []byte(links.Load().(string)) }})
			rd.next("Register")
			c.until(t, "registered", registered)
			tt.fault(rd)
			links.Store("</1/0>,</3/0>,</3303/0>")
			c.UpdateNow()
			reg := rd.next("Update or Register")
			if reg.path == "rd/1" { // the Update reached a registration that answered with an error
				reg = rd.next("Register again")
			}
			if reg.path != "rd" || reg.payload != "</1/0>,</3/0>,</3303/0>" {
				t.Errorf("Register again %s with %q, want POST rd with the new links", reg, reg.payload)
			}
			st := c.until(t, "registered again", func(st State) bool { return st.Registrations == 2 })
			t.Logf("error kept: %s", st.LastError)
			if st.Location != "rd/2" || !strings.Contains(st.LastError, "update rd/1") {
				t.Errorf("state %+v", st)
			}
			rd.answerUpdates(0)
			c.UpdateNow()
			if up := rd.next("Update of the new registration"); up.path != "rd/2" {
				t.Errorf("Update %s, want POST rd/2", up)
			}
		})
	}
}
