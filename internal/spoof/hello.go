package spoof

import "encoding/binary"

// DTLSClientHello is the first datagram of a DTLS 1.2 handshake: a ClientHello without a cookie,
// offering the PSK suites CoAP uses and the extended master secret, as a flood of forged
// handshakes sends it.
func DTLSClientHello() []byte {
	var body []byte
	body = append(body, 0xfe, 0xfd)                               // client_version DTLS 1.2
	body = append(body, make([]byte, 32)...)                      // random
	body = append(body, 0, 0)                                     // session_id, cookie: empty
	body = append(body, 0, 6, 0xc0, 0xa8, 0x00, 0xa8, 0xc0, 0xa4) // PSK CCM_8, GCM, CCM
	body = append(body, 1, 0)                                     // null compression
	body = append(body, 0, 4, 0, 23, 0, 0)                        // extended_master_secret
	for i := range 32 {
		body[2+i] = byte(i * 7)
	}
	msg := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // client_hello, seq 0, offset 0
	putUint24(msg[1:], len(body))
	putUint24(msg[9:], len(body))
	msg = append(msg, body...)
	rec := []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // handshake, epoch 0, seq 0
	binary.BigEndian.PutUint16(rec[11:], uint16(len(msg)))
	return append(rec, msg...)
}

func putUint24(b []byte, v int) { b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v) }
