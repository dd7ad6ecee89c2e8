package lwm2m

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// fakeUpdater records what object 5 asks of the update mechanism.
type fakeUpdater struct {
	mu      sync.Mutex
	pieces  []string // "offset:len:more"
	body    []byte
	pulls   []string
	resets  int
	updates int
	st      FirmwareStatus
	refuse  error // what Pull and Update return
}

func (u *fakeUpdater) facts() FirmwareFacts {
	return FirmwareFacts{
		Package: func(b coap.Block) coap.Answer {
			u.mu.Lock()
			defer u.mu.Unlock()
			u.pieces = append(u.pieces, fmt.Sprintf("%d:%d:%v", b.Offset, len(b.Payload), b.More))
			u.body = append(u.body[:b.Offset], b.Payload...)
			if b.More {
				return coap.Answer{Code: coap.Continue, ContentFormat: coap.NoMediaType}
			}
			return coap.Answer{Code: coap.Changed, ContentFormat: coap.NoMediaType}
		},
		Pull: func(uri string) error {
			u.mu.Lock()
			defer u.mu.Unlock()
			u.pulls = append(u.pulls, uri)
			return u.refuse
		},
		Reset:     func() error { u.mu.Lock(); defer u.mu.Unlock(); u.resets++; return nil },
		Update:    func() error { u.mu.Lock(); defer u.mu.Unlock(); u.updates++; return u.refuse },
		Status:    func() FirmwareStatus { u.mu.Lock(); defer u.mu.Unlock(); return u.st },
		Protocols: []int64{0, 2},
	}
}

func block1(num uint32, more bool) opt {
	v := num<<4 | 0 // 16-byte blocks: SZX 0
	if more {
		v |= 8
	}
	return opt{message.Block1, uintBytes(v)}
}

// TestFirmwareObject: a Package written block-wise reaches the update mechanism block by
// block; an empty one resets; Package URI pulls; Update executes; the status reads and
// notifies; and the mistakes get the LwM2M codes.
func TestFirmwareObject(t *testing.T) {
	u := &fakeUpdater{st: FirmwareStatus{State: 0, Result: 0}}
	fw, err := NewFirmware(u.facts())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	_, p := servedTree(t, f.server, f.device, fw.Object())

	pkg := []byte("0123456789abcdef0123456789ABCDEFtail")
	for i, want := range []codes.Code{codes.Continue, codes.Continue, codes.Changed} {
		end := min(16*(i+1), len(pkg))
		m := p.do(codes.PUT, "5/0/0", pkg[16*i:end], format(coap.AppOctetStream), block1(uint32(i), i < 2))
		if m.Code != want {
			t.Fatalf("block %d of the Package: %v %q, want %v", i, m.Code, m.Payload, want)
		}
	}
	u.mu.Lock()
	pieces, body := slices.Clone(u.pieces), string(u.body)
	u.mu.Unlock()
	if want := []string{"0:16:true", "16:16:true", "32:4:false"}; !slices.Equal(pieces, want) || body != string(pkg) {
		t.Errorf("the Package arrived as %v %q, want %v %q", pieces, body, want, pkg)
	}

	for _, tc := range []struct {
		name    string
		code    codes.Code
		path    string
		payload []byte
		opts    []opt
		want    codes.Code
		diag    string
	}{
		{"empty Package", codes.PUT, "5/0/0", nil, []opt{format(coap.AppOctetStream)}, codes.Changed, ""},
		{"Package as text", codes.PUT, "5/0/0", []byte("x"), []opt{format(coap.TextPlain)}, codes.UnsupportedMediaType, "application/octet-stream"},
		{"Package inside an instance Write", codes.POST, "5/0", mustEncode(t, formatTLV, node.Instance(5, 0),
			node.Record{Path: node.Resource(5, 0, 0), Value: node.OpaqueValue([]byte("x"))}), []opt{format(formatTLV)}, codes.MethodNotAllowed, "write it alone"},
		{"Package read", codes.GET, "5/0/0", nil, nil, codes.MethodNotAllowed, ""},
		{"Package URI", codes.PUT, "5/0/1", []byte("coap://[2001:db8::1]/fw/pigw.update"), []opt{format(coap.TextPlain)}, codes.Changed, ""},
		{"empty Package URI", codes.PUT, "5/0/1", nil, []opt{format(coap.TextPlain)}, codes.Changed, ""},
		{"Update", codes.POST, "5/0/2", nil, nil, codes.Changed, ""},
		{"State not writable", codes.PUT, "5/0/3", []byte("2"), []opt{format(coap.TextPlain)}, codes.MethodNotAllowed, "not writable"},
		{"Write-Attributes on the Package", codes.PUT, "5/0/0", nil, []opt{query("pmin=5")}, codes.Changed, ""},
	} {
		m := p.do(tc.code, tc.path, tc.payload, tc.opts...)
		if m.Code != tc.want || !strings.Contains(string(m.Payload), tc.diag) {
			t.Errorf("%s: %v %q, want %v with %q", tc.name, m.Code, m.Payload, tc.want, tc.diag)
		}
	}
	u.mu.Lock()
	if u.resets != 2 || u.updates != 1 || !slices.Equal(u.pulls, []string{"coap://[2001:db8::1]/fw/pigw.update"}) {
		t.Errorf("resets %d (want 2), updates %d (want 1), pulls %q", u.resets, u.updates, u.pulls)
	}
	u.refuse = fmt.Errorf("%w: no package downloaded", ErrNotAllowed)
	u.mu.Unlock()
	if m := p.do(codes.POST, "5/0/2", nil); m.Code != codes.MethodNotAllowed || !strings.Contains(string(m.Payload), "no package downloaded") {
		t.Errorf("Update refused: %v %q, want 4.05 with the reason", m.Code, m.Payload)
	}
	u.mu.Lock()
	u.refuse = fmt.Errorf("%w: scheme ftp", ErrBadValue)
	u.mu.Unlock()
	if m := p.do(codes.PUT, "5/0/1", []byte("ftp://h/x"), format(coap.TextPlain)); m.Code != codes.BadRequest {
		t.Errorf("a URI Pull refuses: %v %q, want 4.00", m.Code, m.Payload)
	}
	for path, want := range map[string]string{"5/0/1": "", "5/0/9": "2", "5/0/3": "0"} {
		if m := p.do(codes.GET, path, nil, accept(coap.TextPlain)); m.Code != codes.Content || string(m.Payload) != want {
			t.Errorf("Read /%s: %v %q, want %q", path, m.Code, m.Payload, want)
		}
	}

	// State is observed; a change of the status is notified once Changed is called.
	if m := p.do(codes.GET, "5/0/3", nil, observe(0), accept(coap.TextPlain)); m.Code != codes.Content {
		t.Fatalf("observe /5/0/3: %v", m.Code)
	}
	u.mu.Lock()
	u.st = FirmwareStatus{State: 2, PkgName: "pigw", PkgVersion: "v2"}
	u.mu.Unlock()
	fw.Changed()
	r, ok := p.note(3 * time.Second)
	if !ok || string(r.m.Payload) != "2" {
		t.Errorf("no notification of State 2 (got %v %q)", ok, r.m.Payload)
	}
	if m := p.do(codes.GET, "5/0/7", nil, accept(coap.TextPlain)); string(m.Payload) != "v2" {
		t.Errorf("PkgVersion %q, want v2", m.Payload)
	}
}

func TestNewFirmwareNeedsItsFunctions(t *testing.T) {
	if _, err := NewFirmware(FirmwareFacts{}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("no functions: %v", err)
	}
	facts := (&fakeUpdater{}).facts()
	facts.Protocols = nil
	fw, err := NewFirmware(facts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fw.Object().Instances[0].Resources {
		if r.ID == FirmwareProtocols {
			t.Error("a push-only object lists protocols")
		}
		if r.ID == FirmwareDelivery {
			if v, _ := r.Read(); v.Int() != 1 {
				t.Errorf("Delivery Method %d, want 1 (push only)", v.Int())
			}
		}
	}
}
