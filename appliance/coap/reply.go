package coap

import (
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// reply is an answer being built: code, options whose values live in buf, and payload. A
// worker reuses one for every request, so building an answer does not allocate.
type reply struct {
	code    codes.Code
	opts    message.Options
	buf     [96]byte
	used    int
	payload []byte
}

func newReply() *reply { return &reply{opts: make(message.Options, 0, 16)} }

func (r *reply) reset() {
	r.code, r.opts, r.used, r.payload = codes.Empty, r.opts[:0], 0, nil
}

func (r *reply) setUint(id message.OptionID, v uint32) {
	n, _ := message.EncodeUint32(r.buf[r.used:], v)
	r.opts = r.opts.Set(message.Option{ID: id, Value: r.buf[r.used : r.used+n]})
	r.used += n
}

func (r *reply) addBytes(id message.OptionID, b []byte) {
	r.opts = r.opts.Add(message.Option{ID: id, Value: b})
}

// fail turns the reply into an error answer with a diagnostic payload (RFC 7252 §5.5.2).
func (r *reply) fail(code codes.Code, diag string) {
	r.reset()
	r.code = code
	r.payload = []byte(diag)
}

// encode writes the message into buf, growing it when needed, and returns the bytes.
func (r *reply) encode(typ message.Type, mid uint16, token []byte, buf *[]byte) []byte {
	m := message.Message{Token: token, Options: r.opts, Code: r.code, Payload: r.payload, MessageID: int32(mid), Type: typ}
	n, err := coder.DefaultCoder.Encode(m, *buf)
	if err == message.ErrTooSmall {
		*buf = make([]byte, n+64)
		n, err = coder.DefaultCoder.Encode(m, *buf)
	}
	if err != nil {
		return nil
	}
	return (*buf)[:n]
}

// emptyMessage encodes an empty ACK or RST for mid into buf.
func emptyMessage(typ message.Type, mid uint16, buf []byte) []byte {
	buf[0] = 1<<6 | byte(typ)<<4
	buf[1] = 0
	buf[2], buf[3] = byte(mid>>8), byte(mid)
	return buf[:4]
}
