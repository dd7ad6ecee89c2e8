package lwm2mtest

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

const links = `</>;rt="oma.lwm2m";ct="110 112",</1/0>,</3/0>,</3303/0>`

// startTimed is Start with its figures printed: the time to the ready line and the harness's
// resident memory.
func startTimed(t *testing.T) *Server {
	t.Helper()
	start := time.Now()
	s := Start(t)
	t.Logf("harness on port %d ready in %v, RSS %s", s.Port(), time.Since(start).Round(time.Millisecond), rss(s.PID()))
	return s
}

func rss(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err.Error()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// cpuTime is the user and system time of process pid so far, from /proc (in clock ticks of
// 10 ms, as Linux reports them to user space).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command's parenthesis: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRegisterReadDeregister: the registration interface as the server reports it, and a Read
// whose answer comes back byte for byte with its code and Content-Format.
func TestRegisterReadDeregister(t *testing.T) {
	t.Parallel()
	s := startTimed(t)
	c := newClient(t, s.Port())
	ctx := ctxT(t)

	id := c.register("lwpeer-1", 60, links)
	reg, err := s.Next(ctx, Register)
	if err != nil {
		t.Fatal(err)
	}
	wantQuery := []string{"ep=lwpeer-1", "lt=60", "lwm2m=1.1", "b=U"}
	wantLinks := []string{`</>;rt="oma.lwm2m";ct="110 112"`, "</1/0>", "</3/0>", "</3303/0>"}
	if reg.ID != id || reg.Location != "rd/"+id || reg.Endpoint != "lwpeer-1" || reg.Lifetime != "60" ||
		reg.Version != "1.1" || reg.Binding != "U" || !slices.Equal(reg.Query, wantQuery) ||
		!slices.Equal(reg.Links, wantLinks) || string(reg.Payload) != links || reg.Format != 40 ||
		!reg.Confirmable || reg.From != c.addr() {
		t.Errorf("register event %+v\nwant id %s, ep lwpeer-1, lt 60, lwm2m 1.1, b U, query %q, links %q, format 40, CON, from %s",
			reg, id, wantQuery, wantLinks, c.addr())
	}
	regs, err := s.List(ctx)
	if err != nil || len(regs) != 1 || regs[0] != (Registration{ID: id, Endpoint: "lwpeer-1", Lifetime: "60", Address: c.addr()}) {
		t.Errorf("List: %+v, %v; want the one registration", regs, err)
	}

	// Read /3/0/0 as text: the client sees GET /3/0/0 with Accept 0 from the server's port.
	r := served(t, c, func(ctx context.Context) (Reply, error) { return s.Read(ctx, "lwpeer-1", "/3/0/0", Text) },
		func(req message.Message) {
			if got, want := describe(req), "Confirmable GET /3 /0 /0 Accept=0"; got != want {
				t.Errorf("Read /3/0/0 arrived as %q, want %q", got, want)
			}
			c.answer(req, codes.Content, 0, -1, []byte("pigw"))
		})
	if r.Code != "2.05" || r.Format != 0 || string(r.Payload) != "pigw" || r.Observe != NoOption {
		t.Errorf("Read /3/0/0: %v, want 2.05 format 0 \"pigw\"", r)
	}

	// Read /3/0 as TLV: bytes that are not UTF-8 come back unchanged.
	tlv := []byte{0xc8, 0x00, 0x04, 'p', 'i', 'g', 'w', 0xc1, 0x0b, 0xff}
	r = served(t, c, func(ctx context.Context) (Reply, error) { return s.Read(ctx, "lwpeer-1", "/3/0", TLV) },
		func(req message.Message) {
			if got, want := describe(req), "Confirmable GET /3 /0 Accept=11542"; got != want {
				t.Errorf("Read /3/0 arrived as %q, want %q", got, want)
			}
			c.answer(req, codes.Content, 11542, -1, tlv)
		})
	if r.Code != "2.05" || r.Format != 11542 || !bytes.Equal(r.Payload, tlv) {
		t.Errorf("Read /3/0 as TLV: %v, want 2.05 format 11542 % x", r, tlv)
	}

	// An Update with a new lifetime, then the De-register.
	if a := c.request(codes.POST, "rd/"+id, []string{"lt=90"}, -1, nil); a.Code != codes.Changed {
		t.Errorf("Update: %v, want 2.04", a.Code)
	}
	up, err := s.Next(ctx, Update)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != id || up.Endpoint != "lwpeer-1" || up.Lifetime != "90" || !slices.Equal(up.Query, []string{"lt=90"}) || up.From != c.addr() {
		t.Errorf("update event %+v, want id %s, lt 90, from %s", up, id, c.addr())
	}
	if a := c.request(codes.DELETE, "rd/"+id, nil, -1, nil); a.Code != codes.Deleted {
		t.Errorf("De-register: %v, want 2.02", a.Code)
	}
	dereg, err := s.Next(ctx, Deregister)
	if err != nil {
		t.Fatal(err)
	}
	if dereg.ID != id || dereg.Endpoint != "lwpeer-1" || dereg.From != c.addr() {
		t.Errorf("deregister event %+v, want id %s ep lwpeer-1 from %s", dereg, id, c.addr())
	}
	if regs, err := s.List(ctx); err != nil || len(regs) != 0 {
		t.Errorf("List after De-register: %+v, %v; want none", regs, err)
	}
	if _, err := s.Read(ctx, "lwpeer-1", "/3/0/0", Text); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("Read of a de-registered endpoint: %v, want \"not registered\"", err)
	}
}

// TestExpire: a registration with a lifetime of 2 s and no Update expires, and is reported as
// expired, not as de-registered.
func TestExpire(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := newClient(t, s.Port())
	ctx := ctxT(t)
	id := c.register("lwpeer-expire", 2, "</1/0>")
	reg, err := s.Next(ctx, Register)
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTime(s.PID())
	ev, err := s.WaitEvent(ctx, func(e Event) bool { return e.Kind == Expire || e.Kind == Deregister })
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != Expire || ev.ID != id || ev.Endpoint != "lwpeer-expire" {
		t.Fatalf("event %v, want expire of id %s", ev, id)
	}
	t.Logf("lifetime 2 s: expired %v after the registration; the harness used %v of CPU meanwhile",
		ev.Time.Sub(reg.Time), cpuTime(s.PID())-cpu0)
	if regs, err := s.List(ctx); err != nil || len(regs) != 0 {
		t.Errorf("List after expiry: %+v, %v; want none", regs, err)
	}
}

// TestOperations: each request the harness sends, as the client sees it, and the reply the
// test gets for the client's answer, error codes included.
func TestOperations(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := newClient(t, s.Port())
	c.register("lwpeer-ops", 60, links)
	const ep = "lwpeer-ops"
	cbor := []byte{0x81, 0xa2, 0x00, 0x63, '/', '1', '/', 0x02, 0x18, 0x78}
	cases := []struct {
		name   string
		call   func(context.Context) (Reply, error)
		want   string // the request as describe prints it
		answer func(req message.Message)
		reply  Reply
	}{{
		name:   "write text",
		call:   func(ctx context.Context) (Reply, error) { return s.Write(ctx, ep, "/1/0/1", Text, []byte("120")) },
		want:   "Confirmable PUT /1 /0 /1 ContentFormat=0 payload 120",
		answer: func(req message.Message) { c.answer(req, codes.Changed, -1, -1, nil) },
		reply:  Reply{Code: "2.04", Format: NoOption, Observe: NoOption},
	}, {
		name:   "write senml-cbor",
		call:   func(ctx context.Context) (Reply, error) { return s.Write(ctx, ep, "/1/0", SenMLCBOR, cbor) },
		want:   "Confirmable PUT /1 /0 ContentFormat=112 payload " + string(cbor),
		answer: func(req message.Message) { c.answer(req, codes.BadRequest, -1, -1, nil) },
		reply:  Reply{Code: "4.00", Format: NoOption, Observe: NoOption},
	}, {
		name:   "read senml-json refused",
		call:   func(ctx context.Context) (Reply, error) { return s.Read(ctx, ep, "/3/0", SenMLJSON) },
		want:   "Confirmable GET /3 /0 Accept=110",
		answer: func(req message.Message) { c.answer(req, codes.NotAcceptable, -1, -1, nil) },
		reply:  Reply{Code: "4.06", Format: NoOption, Observe: NoOption},
	}, {
		name:   "execute",
		call:   func(ctx context.Context) (Reply, error) { return s.Execute(ctx, ep, "/1/0/8", "") },
		want:   "Confirmable POST /1 /0 /8 ContentFormat=0", // the library's Content-Format without a payload
		answer: func(req message.Message) { c.answer(req, codes.Changed, -1, -1, nil) },
		reply:  Reply{Code: "2.04", Format: NoOption, Observe: NoOption},
	}, {
		name:   "execute refused",
		call:   func(ctx context.Context) (Reply, error) { return s.Execute(ctx, ep, "/3/0/0", "") },
		want:   "Confirmable POST /3 /0 /0 ContentFormat=0",
		answer: func(req message.Message) { c.answer(req, codes.MethodNotAllowed, -1, -1, nil) },
		reply:  Reply{Code: "4.05", Format: NoOption, Observe: NoOption},
	}, {
		name: "write-attributes",
		call: func(ctx context.Context) (Reply, error) {
			return s.WriteAttributes(ctx, ep, "/3303/0/5700", Attributes{"pmin": 2, "pmax": 5})
		},
		want:   "Confirmable PUT /3303 /0 /5700 ?pmax=5 ?pmin=2",
		answer: func(req message.Message) { c.answer(req, codes.Changed, -1, -1, nil) },
		reply:  Reply{Code: "2.04", Format: NoOption, Observe: NoOption},
	}, {
		name: "discover",
		call: func(ctx context.Context) (Reply, error) { return s.Discover(ctx, ep, "/3303/0/5700") },
		want: "Confirmable GET /3303 /0 /5700 Accept=40",
		answer: func(req message.Message) {
			c.answer(req, codes.Content, 40, -1, []byte("</3303/0/5700>;pmin=2;pmax=5"))
		},
		reply: Reply{Code: "2.05", Format: NoOption, Observe: NoOption, Payload: []byte("</3303/0/5700>;pmin=2;pmax=5")},
	}}
	for _, tc := range cases {
		got := served(t, c, tc.call, func(req message.Message) {
			if d := describeWithPayload(req); d != tc.want {
				t.Errorf("%s: the client got %q, want %q", tc.name, d, tc.want)
			}
			tc.answer(req)
		})
		if got.String() != tc.reply.String() {
			t.Errorf("%s: reply %v, want %v", tc.name, got, tc.reply)
		}
	}
	ctx := ctxT(t)
	if _, err := s.WriteAttributes(ctx, ep, "/3303/0/5700", Attributes{"epmin": 1}); err == nil {
		t.Error("write-attributes with epmin: no error, want lwm2m-node-lib's refusal")
	}
	if _, err := s.Read(ctx, ep, "3/0/0", Text); err == nil || !strings.Contains(err.Error(), "want /Object") {
		t.Errorf("read of path 3/0/0: %v, want the path rule", err)
	}
}

func describeWithPayload(m message.Message) string {
	if len(m.Payload) == 0 {
		return describe(m)
	}
	return describe(m) + " payload " + string(m.Payload)
}

// TestObserveCancel: an observation whose first answer has Observe 0 (node-coap's own observe
// loses it), confirmable notifications acknowledged (lwm2m-node-lib's proxy loses the ACK),
// and a Cancel that reaches the client (lwm2m-node-lib's sends nothing).
func TestObserveCancel(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := newClient(t, s.Port())
	c.register("lwpeer-obs", 60, links)
	ctx := ctxT(t)
	var token []byte
	first := served(t, c, func(ctx context.Context) (Reply, error) { return s.Observe(ctx, "lwpeer-obs", "/3303/0/5700", Text) },
		func(req message.Message) {
			if got, want := describe(req), "Confirmable GET Observe=0 /3303 /0 /5700 Accept=0"; got != want {
				t.Errorf("Observe arrived as %q, want %q", got, want)
			}
			token = req.Token
			c.answer(req, codes.Content, 0, 0, []byte("21.5"))
		})
	if want := (Reply{Code: "2.05", Format: 0, Observe: 0, Payload: []byte("21.5")}); first.String() != want.String() {
		t.Errorf("Observe: %v, want %v", first, want)
	}

	con := c.notify(message.Confirmable, token, 1, "22")
	if ack := c.receive(); ack.Type != message.Acknowledgement || ack.Code != codes.Empty || ack.MessageID != con.MessageID {
		t.Errorf("CON notification answered with %v, want the empty ACK of message %d", ack, con.MessageID)
	}
	c.notify(message.NonConfirmable, token, 2, "22.5")
	for i, want := range []Event{{Observe: 1, Payload: []byte("22"), Confirmable: true}, {Observe: 2, Payload: []byte("22.5")}} {
		ev, err := s.Next(ctx, Notify)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Endpoint != "lwpeer-obs" || ev.Path != "/3303/0/5700" || ev.Code != "2.05" || ev.Format != 0 ||
			ev.Observe != want.Observe || string(ev.Payload) != string(want.Payload) || ev.Confirmable != want.Confirmable {
			t.Errorf("notification %d: %+v, want observe %d payload %q con %v", i, ev, want.Observe, want.Payload, want.Confirmable)
		}
	}

	r := served(t, c, func(ctx context.Context) (Reply, error) { return s.Cancel(ctx, "lwpeer-obs", "/3303/0/5700") },
		func(req message.Message) {
			if got, want := describe(req), "Confirmable GET Observe=1 /3303 /0 /5700"; got != want || string(req.Token) != string(token) {
				t.Errorf("Cancel arrived as %q token % x, want %q with the observation's token % x", got, req.Token, want, token)
			}
			c.answer(req, codes.Content, 0, -1, []byte("23"))
		})
	if r.Code != "2.05" || string(r.Payload) != "23" {
		t.Errorf("Cancel: %v, want the client's 2.05", r)
	}
	late := c.notify(message.Confirmable, token, 3, "24")
	if rst := c.receive(); rst.Type != message.Reset || rst.MessageID != late.MessageID {
		t.Errorf("a notification after Cancel answered with %v, want RST of message %d", rst, late.MessageID)
	}
	if _, err := s.Cancel(ctx, "lwpeer-obs", "/3303/0/5700"); err == nil {
		t.Error("a second Cancel: no error, want no observation")
	}
	// The harness handles commands after the datagrams before them: once List has answered,
	// a report of the late notification would be in Events.
	if _, err := s.List(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Events() {
		if e.Kind == Notify && e.Observe == 3 {
			t.Errorf("a notification after Cancel was reported: %v", e)
		}
	}
}

// TestRestartEmpty: a server stopped and started again on its port has forgotten the
// registration, answers an Update with 4.04, and takes a new Register: what a client's
// "register again" path is tested with.
func TestRestartEmpty(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := newClient(t, s.Port())
	ctx := ctxT(t)
	id := c.register("lwpeer-restart", 60, "</1/0>")
	s.Stop()
	if _, err := s.List(ctx); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("List after Stop: %v, want the harness gone", err)
	}
	s2 := StartOn(t, s.Port())
	if s2.Port() != s.Port() {
		t.Fatalf("restarted on port %d, want %d", s2.Port(), s.Port())
	}
	if a := c.request(codes.POST, "rd/"+id, nil, -1, nil); a.Code != codes.NotFound {
		t.Errorf("Update after the restart: %v, want 4.04", a.Code)
	}
	c.register("lwpeer-restart", 60, "</1/0>")
	if reg, err := s2.Next(ctx, Register); err != nil || reg.Endpoint != "lwpeer-restart" {
		t.Errorf("register after the restart: %v, %v", reg, err)
	}
}
