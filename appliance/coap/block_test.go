package coap

import (
	"bytes"
	"strings"
	"testing"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

func block(szx blockwise.SZX, num int64, more bool) uint32 {
	v, _ := blockwise.EncodeBlockOption(szx, num, more)
	return v
}

func bigValue(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), 10))
	}
	return b.Bytes()[:n]
}

func TestBlock2(t *testing.T) {
	s, addr := seedServer(t, Config{})
	want := bigValue(5000)
	if err := s.Resource("resource1").SetValue(want); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for _, szx := range []blockwise.SZX{blockwise.SZX64, blockwise.SZX1024} {
		var got []byte
		for num := int64(0); ; num++ {
			opts := []opt{}
			if num > 0 || szx != blockwise.SZX1024 {
				opts = append(opts, uintOpt(message.Block2, block(szx, num, false)))
			}
			m := c.do(codes.GET, "resource1", "", opts...)
			v, ok := optUint(m, message.Block2)
			if m.Code != codes.Content || !ok {
				t.Fatalf("block %d: %v block2=%v", num, m.Code, ok)
			}
			gs, gn, more, _ := blockwise.DecodeBlockOption(v)
			if gs != szx || gn != num {
				t.Fatalf("block %d: got szx %d num %d", num, gs, gn)
			}
			if size, ok := optUint(m, message.Size2); num == 0 && (!ok || size != 5000) {
				t.Errorf("Size2 %d %v", size, ok)
			}
			got = append(got, m.Payload...)
			if !more {
				break
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("szx %d: reassembled %d bytes, differs", szx, len(got))
		}
	}
	if m := c.do(codes.GET, "resource1", "", uintOpt(message.Block2, block(blockwise.SZX1024, 9, false))); m.Code != codes.BadOption {
		t.Errorf("block past the end: %v", m.Code)
	}
}

func TestBlock1(t *testing.T) {
	s, addr := seedServer(t, Config{})
	c := dial(t, addr)
	want := bigValue(5000)
	upload := func(path string, szx blockwise.SZX, last codes.Code) {
		t.Helper()
		bs := szxSize(szx)
		for num := 0; num*bs < len(want); num++ {
			end := min((num+1)*bs, len(want))
			more := end < len(want)
			m := c.do(codes.PUT, path, string(want[num*bs:end]), uintOpt(message.Block1, block(szx, int64(num), more)))
			expect := codes.Continue
			if !more {
				expect = last
			}
			if m.Code != expect {
				t.Fatalf("%s block %d: %v (%s), want %v", path, num, m.Code, m.Payload, expect)
			}
			if v, ok := optUint(m, message.Block1); !ok || v != block(szx, int64(num), more) {
				t.Errorf("block %d: Block1 echo %x", num, v)
			}
		}
	}
	upload("resource1", blockwise.SZX1024, codes.Changed)
	if got := s.Resource("resource1").Value(); !bytes.Equal(got, want) {
		t.Errorf("stored %d bytes, differs", len(got))
	}
	upload("new/upload", blockwise.SZX256, codes.Created)
	if r := s.Resource("new/upload"); r == nil || !bytes.Equal(r.Value(), want) {
		t.Error("dynamic Block1 upload not stored")
	}
	// Out of order: block 2 without 0 and 1.
	if m := c.do(codes.PUT, "resource1", strings.Repeat("x", 64), uintOpt(message.Block1, block(blockwise.SZX64, 2, true))); m.Code != codes.RequestEntityIncomplete {
		t.Errorf("out of order: %v", m.Code)
	}
	if s.blocks.len() != 0 {
		t.Errorf("%d uploads left", s.blocks.len())
	}
}

func TestBlock1TooLarge(t *testing.T) {
	_, addr := seedServer(t, Config{Limits: Limits{MaxValueSize: 2048}})
	c := dial(t, addr)
	chunk := strings.Repeat("x", 1024)
	for num, want := range []codes.Code{codes.Continue, codes.Continue, codes.RequestEntityTooLarge} {
		m := c.do(codes.PUT, "resource1", chunk, uintOpt(message.Block1, block(blockwise.SZX1024, int64(num), true)))
		if m.Code != want {
			t.Fatalf("block %d: %v, want %v", num, m.Code, want)
		}
	}
	// Announced too large up front with Size1.
	m := c.do(codes.PUT, "resource1", chunk, uintOpt(message.Block1, block(blockwise.SZX1024, 0, true)), uintOpt(message.Size1, 5000))
	if m.Code != codes.RequestEntityTooLarge {
		t.Errorf("Size1 5000: %v", m.Code)
	}
}

func TestBlock2Observe(t *testing.T) {
	s, addr := seedServer(t, Config{})
	c := dial(t, addr)
	m := c.do(codes.GET, "resource1", "", opt{message.Observe, nil})
	if !m.Options.HasOption(message.Observe) {
		t.Fatal("not registered")
	}
	if err := s.Resource("resource1").SetValue(bigValue(3000)); err != nil {
		t.Fatal(err)
	}
	n := c.notification(t)
	v, ok := optUint(n, message.Block2)
	_, num, more, _ := blockwise.DecodeBlockOption(v)
	if !ok || num != 0 || !more || len(n.Payload) != 1024 || !n.Options.HasOption(message.Observe) {
		t.Errorf("large notification: block2=%v num=%d more=%v len=%d", ok, num, more, len(n.Payload))
	}
}
