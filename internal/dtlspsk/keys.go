package dtlspsk

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/pion/dtls/v3/pkg/crypto/ciphersuite"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/recordlayer"
)

// The cipher suites, in the server's order of preference (RFC 7252 §9.1.3.1 mandates the first).
const (
	suitePSKCCM8   = 0xc0a8 // TLS_PSK_WITH_AES_128_CCM_8
	suitePSKGCM128 = 0x00a8 // TLS_PSK_WITH_AES_128_GCM_SHA256
	suitePSKCCM    = 0xc0a4 // TLS_PSK_WITH_AES_128_CCM
)

var suites = []uint16{suitePSKCCM8, suitePSKGCM128, suitePSKCCM}

// recordCipher protects records of epoch 1 (pion's AEAD suites satisfy it).
type recordCipher interface {
	Encrypt(pkt *recordlayer.RecordLayer, raw []byte) ([]byte, error)
	Decrypt(h recordlayer.Header, in []byte) ([]byte, error)
}

// chooseSuite picks the first of the server's suites the hello offers; 0 when none.
func chooseSuite(h *hello) uint16 {
	for _, s := range suites {
		if h.offers(s) {
			return s
		}
	}
	return 0
}

// masterSecret derives the master secret from the PSK (RFC 4279 §2), with the extended master
// secret (RFC 7627) over sessionHash when it is not nil.
func masterSecret(psk, clientRandom, serverRandom, sessionHash []byte) ([]byte, error) {
	pre := prf.PSKPreMasterSecret(psk)
	if sessionHash != nil {
		return prf.ExtendedMasterSecret(pre, sessionHash, sha256.New)
	}
	return prf.MasterSecret(pre, clientRandom, serverRandom, sha256.New)
}

// newCipher expands the master secret into the server's record protection for suite.
func newCipher(suite uint16, master, clientRandom, serverRandom []byte) (recordCipher, error) {
	const keyLen, ivLen = 16, 4
	k, err := prf.GenerateEncryptionKeys(master, clientRandom, serverRandom, 0, keyLen, ivLen, sha256.New)
	if err != nil {
		return nil, fmt.Errorf("derive keys: %w", err)
	}
	switch suite {
	case suitePSKCCM8:
		return ciphersuite.NewCCM(ciphersuite.CCMTagLength8, k.ServerWriteKey, k.ServerWriteIV, k.ClientWriteKey, k.ClientWriteIV)
	case suitePSKCCM:
		return ciphersuite.NewCCM(ciphersuite.CCMTagLength, k.ServerWriteKey, k.ServerWriteIV, k.ClientWriteKey, k.ClientWriteIV)
	case suitePSKGCM128:
		return ciphersuite.NewGCM(k.ServerWriteKey, k.ServerWriteIV, k.ClientWriteKey, k.ClientWriteIV)
	}
	return nil, fmt.Errorf("cipher suite %#04x: not one of the server's", suite)
}

// verifyData is the Finished message's content for the transcript so far (RFC 5246 §7.4.9).
func verifyData(master, transcript []byte, client bool) ([]byte, error) {
	if client {
		return prf.VerifyDataClient(master, transcript, sha256.New)
	}
	return prf.VerifyDataServer(master, transcript, sha256.New)
}

// replayWindow drops records seen before (RFC 6347 §4.1.2.6): the highest sequence number
// accepted and a bitmap of the 64 below it.
type replayWindow struct {
	top    uint64
	bitmap uint64
	any    bool
}

// fresh reports whether seq was not yet accepted and is not too old to tell.
func (w *replayWindow) fresh(seq uint64) bool {
	switch {
	case !w.any || seq > w.top:
		return true
	case w.top-seq >= 64:
		return false
	}
	return w.bitmap&(1<<(w.top-seq)) == 0
}

// accept marks seq as seen, after its record authenticated. It reports whether seq is the
// newest so far.
func (w *replayWindow) accept(seq uint64) bool {
	if !w.any || seq > w.top {
		shift := seq - w.top
		if !w.any || shift >= 64 {
			w.bitmap = 0
		} else {
			w.bitmap <<= shift
		}
		w.bitmap |= 1
		w.top, w.any = seq, true
		return true
	}
	w.bitmap |= 1 << (w.top - seq)
	return false
}

// handshakeHeader appends a whole (unfragmented) handshake message's header.
func handshakeHeader(dst []byte, typ byte, seq uint16, length int) []byte {
	var h [handshakeHeaderLen]byte
	h[0] = typ
	putUint24(h[1:], length)
	binary.BigEndian.PutUint16(h[4:], seq)
	putUint24(h[9:], length)
	return append(dst, h[:]...)
}
