package dtlspsk

import (
	"encoding/binary"
	"errors"
)

// Wire constants (RFC 6347 §4.1, §4.2.2; RFC 9146).
const (
	recordHeaderLen    = 13
	handshakeHeaderLen = 12

	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
	typeCID              = 25

	msgClientHello        = 1
	msgServerHello        = 2
	msgHelloVerifyRequest = 3
	msgServerKeyExchange  = 12
	msgServerHelloDone    = 14
	msgClientKeyExchange  = 16
	msgFinished           = 20

	extExtendedMasterSecret = 23
	extConnectionID         = 54
	extRenegotiationInfo    = 0xff01
	suiteRenegotiationSCSV  = 0x00ff
)

var (
	versionDTLS12 = [2]byte{0xfe, 0xfd}
	versionDTLS10 = [2]byte{0xfe, 0xff}
)

// The reasons a datagram is not a ClientHello this server answers. They are fixed values, so
// that rejecting a flood allocates nothing.
var (
	errShortRecord    = errors.New("shorter than a DTLS record header")
	errNotHandshake   = errors.New("not a handshake record")
	errRecordVersion  = errors.New("record version is not DTLS 1.0 or 1.2")
	errEpoch          = errors.New("handshake record of epoch > 0 from a peer without a session")
	errRecordLength   = errors.New("record length runs past the datagram")
	errNotHello       = errors.New("first handshake message is not a ClientHello")
	errFragmented     = errors.New("fragmented ClientHello (not accepted before a session)")
	errHelloLength    = errors.New("ClientHello length runs past its record")
	errHelloVersion   = errors.New("ClientHello does not offer DTLS 1.2")
	errHelloTruncated = errors.New("ClientHello field runs past the message")
)

// hello is what the server reads of a ClientHello, as slices of the datagram.
type hello struct {
	recordSeq            uint64
	messageSeq           uint16
	message              []byte // the handshake message, header included: the transcript's first entry
	random               []byte
	params               []byte // client_version, random and session_id: the cookie's input with suites
	cookie               []byte
	suites               []byte // cipher_suites, without their length
	suitesAndCompression []byte // cipher_suites and compression_methods with their lengths
	extensions           []byte // without their length
}

// parseHello reads the ClientHello that starts a datagram. It does not allocate.
func parseHello(b []byte, h *hello) error {
	if len(b) < recordHeaderLen {
		return errShortRecord
	}
	if b[0] != typeHandshake {
		return errNotHandshake
	}
	if v := [2]byte(b[1:3]); v != versionDTLS12 && v != versionDTLS10 {
		return errRecordVersion
	}
	if binary.BigEndian.Uint16(b[3:5]) != 0 {
		return errEpoch
	}
	h.recordSeq = uint48(b[5:11])
	n := int(binary.BigEndian.Uint16(b[11:13]))
	if n > len(b)-recordHeaderLen {
		return errRecordLength
	}
	rec := b[recordHeaderLen : recordHeaderLen+n]
	if len(rec) < handshakeHeaderLen || rec[0] != msgClientHello {
		return errNotHello
	}
	length := uint24(rec[1:4])
	h.messageSeq = binary.BigEndian.Uint16(rec[4:6])
	if uint24(rec[6:9]) != 0 || uint24(rec[9:12]) != length {
		return errFragmented
	}
	if length > len(rec)-handshakeHeaderLen {
		return errHelloLength
	}
	h.message = rec[:handshakeHeaderLen+length]
	body := h.message[handshakeHeaderLen:]
	return parseHelloBody(body, h)
}

func parseHelloBody(body []byte, h *hello) error {
	// client_version(2) random(32) session_id<0..32>
	if len(body) < 35 {
		return errHelloTruncated
	}
	if [2]byte(body[0:2]) != versionDTLS12 {
		return errHelloVersion
	}
	h.random = body[2:34]
	p := 35 + int(body[34])
	if body[34] > 32 || p >= len(body) {
		return errHelloTruncated
	}
	h.params = body[:p]
	// cookie<0..255>
	c := int(body[p])
	if p+1+c > len(body) {
		return errHelloTruncated
	}
	h.cookie = body[p+1 : p+1+c]
	p += 1 + c
	start := p
	// cipher_suites<2..2^16-2>
	if p+2 > len(body) {
		return errHelloTruncated
	}
	s := int(binary.BigEndian.Uint16(body[p:]))
	if s < 2 || s%2 != 0 || p+2+s > len(body) {
		return errHelloTruncated
	}
	h.suites = body[p+2 : p+2+s]
	p += 2 + s
	// compression_methods<1..255>
	if p >= len(body) || body[p] == 0 || p+1+int(body[p]) > len(body) {
		return errHelloTruncated
	}
	p += 1 + int(body[p])
	h.suitesAndCompression = body[start:p]
	h.extensions = nil
	if p == len(body) {
		return nil
	}
	if p+2 > len(body) || p+2+int(binary.BigEndian.Uint16(body[p:])) != len(body) {
		return errHelloTruncated
	}
	h.extensions = body[p+2:]
	for e := h.extensions; len(e) > 0; {
		if len(e) < 4 || 4+int(binary.BigEndian.Uint16(e[2:])) > len(e) {
			return errHelloTruncated
		}
		e = e[4+int(binary.BigEndian.Uint16(e[2:])):]
	}
	return nil
}

// extension returns the data of the hello's extension typ, and whether it is there.
func (h *hello) extension(typ uint16) ([]byte, bool) {
	for e := h.extensions; len(e) >= 4; {
		n := int(binary.BigEndian.Uint16(e[2:]))
		if binary.BigEndian.Uint16(e) == typ {
			return e[4 : 4+n], true
		}
		e = e[4+n:]
	}
	return nil, false
}

// offers reports whether the hello lists the cipher suite id.
func (h *hello) offers(id uint16) bool {
	for s := h.suites; len(s) >= 2; s = s[2:] {
		if binary.BigEndian.Uint16(s) == id {
			return true
		}
	}
	return false
}

func uint24(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }

func putUint24(b []byte, v int) { b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v) }

func uint48(b []byte) uint64 {
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

func putUint48(b []byte, v uint64) {
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
