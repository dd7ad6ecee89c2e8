package coap

import (
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/codes"

	"github.com/pigw/pigw/internal/udpnat"
)

func TestDTLS(t *testing.T) {
	srv, err := NewServer(withListen(Config{
		DynamicResources: true,
		DTLS: &DTLSConfig{Listen: []string{"127.0.0.1:0"}, PSK: []byte("secretPSK"), Hint: "pigw",
			Keys: map[string][]byte{"alice": []byte("alicekey")}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddResource("r", WithValue([]byte("secret value")), WithMethods(GET|PUT)); err != nil {
		t.Fatal(err)
	}
	startServer(t, srv)
	addr := srv.DTLSAddrs()[0]
	for _, tt := range []struct {
		name, identity, key string
		ok                  bool
	}{
		{"per-identity key", "alice", "alicekey", true},
		{"shared PSK for other identities", "bob", "secretPSK", true},
		{"wrong key", "alice", "secretPSK", false},
		{"wrong shared key", "carol", "guess", false},
	} {
		_ = srv.Resource("r").SetValue([]byte("secret value"))
		c := NewClient(nil)
		s, err := c.NewSession(addr.String(), SessionOptions{Identity: tt.identity, PSK: []byte(tt.key), Timeout: 2 * time.Second})
		if !tt.ok {
			if err == nil {
				t.Errorf("%s: session opened", tt.name)
			} else if !strings.Contains(err.Error(), "the server refused the key") {
				t.Errorf("%s: %v, want the server's refusal of the key", tt.name, err)
			} else if strings.Contains(err.Error(), tt.key) {
				t.Errorf("%s: error shows the key: %v", tt.name, err)
			}
			c.Close()
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		r, err := s.Do(ctx(t), NewRequest(GET, "r"))
		if err != nil || r.Code != Code(codes.Content) || string(r.Payload) != "secret value" {
			t.Errorf("%s: %v %s %q", tt.name, err, r.Code, r.Payload)
		}
		// Observe works over DTLS too.
		got := make(chan string, 2)
		if _, err := s.Observe(ctx(t), "r", func(r Response) { got <- string(r.Payload) }); err != nil {
			t.Fatal(err)
		}
		<-got
		_ = srv.Resource("r").SetValue([]byte("changed " + tt.identity))
		if v := <-got; v != "changed "+tt.identity {
			t.Errorf("%s: notification %q", tt.name, v)
		}
		c.Close()
	}
}

func TestDTLSConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		d    DTLSConfig
		want string
	}{
		{DTLSConfig{}, "needs a PSK or per-identity keys"},
		{DTLSConfig{PSK: []byte{}}, "needs a PSK"},
		{DTLSConfig{PSK: []byte("k"), Listen: []string{"0.0.0.0:5683"}}, "port 5683 is plain CoAP"},
		{DTLSConfig{Keys: map[string][]byte{"": []byte("k")}}, "must not be empty"},
		{DTLSConfig{PSK: []byte("k"), Listen: []string{"nonsense"}}, `"nonsense"`},
	} {
		_, err := NewServer(Config{DTLS: &tt.d})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.d.Listen, err, tt.want)
		}
	}
}

func TestHandlerSeesIdentity(t *testing.T) {
	srv, err := NewServer(withListen(Config{DTLS: &DTLSConfig{Listen: []string{"127.0.0.1:0"}, Keys: map[string][]byte{"admin": []byte("k1"), "user": []byte("k2")}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = srv.AddResource("sys/reboot", WithHandler(POST, func(in Incoming) Answer {
		switch {
		case !in.Secure:
			return Answer{Code: Unauthorized, ContentFormat: NoMediaType, Payload: []byte("DTLS required")}
		case in.Identity != "admin":
			return Answer{Code: Forbidden, ContentFormat: NoMediaType, Payload: []byte(in.Identity + " is not an admin")}
		}
		return Answer{Code: Changed, ContentFormat: TextPlain, Payload: []byte("rebooting")}
	}))
	if err != nil {
		t.Fatal(err)
	}
	plain := startServer(t, srv)
	c, s := testSession(t, plain, SessionOptions{})
	_ = c
	if r, _ := s.Do(ctx(t), NewRequest(POST, "sys/reboot")); r.Code != Unauthorized {
		t.Errorf("plain: %s", r.Code)
	}
	if r, _ := s.Do(ctx(t), NewRequest(GET, "sys/reboot")); r.Code != Code(codes.MethodNotAllowed) {
		t.Errorf("GET: %s", r.Code)
	}
	for id, want := range map[string]Code{"admin": Changed, "user": Forbidden} {
		key := map[string]string{"admin": "k1", "user": "k2"}[id]
		_, s := testSession(t, srv.DTLSAddrs()[0], SessionOptions{Identity: id, PSK: []byte(key)})
		r, err := s.Do(ctx(t), NewRequest(POST, "sys/reboot"))
		if err != nil || r.Code != want {
			t.Errorf("%s: %s %v", id, r.Code, err)
		}
	}
}

// TestDTLSSessionAcrossNATRebind: pigw's client behind a NAT whose port changes keeps its
// session with pigw's server through the Connection ID the server gave it: requests are
// answered, notifications of an observation reach the new port, and there is no second
// handshake.
func TestDTLSSessionAcrossNATRebind(t *testing.T) {
	srv, err := NewServer(withListen(Config{DTLS: &DTLSConfig{Listen: []string{"127.0.0.1:0"}, Keys: map[string][]byte{"alice": []byte("alicekey")}}}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.AddResource("r", WithValue([]byte("v0")), WithMethods(GET))
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, srv)
	nat, err := udpnat.New(t.Context(), srv.DTLSAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	_, s := testSession(t, nat.Addr(), SessionOptions{Identity: "alice", PSK: []byte("alicekey"), Timeout: 3 * time.Second})
	got := make(chan string, 4)
	if _, err := s.Observe(ctx(t), "r", func(r Response) { got <- string(r.Payload) }); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "v0" {
		t.Fatalf("first notification %q", v)
	}
	hellos := srv.Counters()["dtls_hello_verify"]

	to, err := nat.Rebind()
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Do(ctx(t), NewRequest(GET, "r"))
	if err != nil || string(r.Payload) != "v0" {
		t.Fatalf("GET after the NAT moved to %s: %v %q", to, err, r.Payload)
	}
	_ = res.SetValue([]byte("v1"))
	select {
	case v := <-got:
		if v != "v1" {
			t.Errorf("notification after the move %q, want v1", v)
		}
	case <-time.After(3 * time.Second):
		t.Error("no notification at the NAT's new port")
	}
	if h := srv.Counters()["dtls_hello_verify"]; h != hellos {
		t.Errorf("%d new handshakes after the port change, want none", h-hellos)
	}
	if n := srv.DTLSSessions(); n != 1 {
		t.Errorf("%d DTLS sessions, want 1", n)
	}
}
