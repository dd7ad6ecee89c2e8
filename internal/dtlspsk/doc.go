// Package dtlspsk is a DTLS 1.2 server for pre-shared keys (RFC 6347, RFC 4279) that keeps no
// state for a peer until the peer has proved it receives datagrams at its source address.
//
// On a LAN anyone can send datagrams with forged source addresses. A server that takes a session
// slot, a goroutine or a log line for each ClientHello can be shut by a few thousand forged
// hellos a second. pion/dtls, which pigw's client uses, creates a connection (and with it a
// slot) for every new source address before its own cookie exchange, and its server cannot take
// over a handshake whose cookie was checked elsewhere: the message sequence numbers and the
// handshake transcript would not match. So the server side is written here, on pion's public
// record and cryptography packages.
//
// What it does before any per-peer state (RFC 6347 §4.2.1): a ClientHello without a valid
// cookie is answered with a HelloVerifyRequest whose cookie is an HMAC of the peer's address
// and port, the hello's parameters and a secret that rotates (the previous one stays valid),
// and is forgotten. The HelloVerifyRequest is smaller than the hello, so the server amplifies
// nothing. Only a hello that returns a valid cookie gets a session, and only while the limits
// in total and per source address allow; a session whose handshake is not done within the
// handshake deadline is dropped.
//
// Connection IDs (RFC 9146): when a client offers the extension, the server gives it an ID of
// CIDLength bytes, and routes records that carry it by the ID before the address. A client
// behind a NAT whose port changes keeps its session; the session's address follows the newest
// authenticated record.
//
// Suites: TLS_PSK_WITH_AES_128_CCM_8 (the one RFC 7252 mandates), TLS_PSK_WITH_AES_128_GCM_SHA256
// and TLS_PSK_WITH_AES_128_CCM, in that order of preference; extended master secret (RFC 7627)
// and secure renegotiation's empty extension (RFC 5746) when the client asks. No resumption, no
// renegotiation, no certificates.
package dtlspsk
