package bundle

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

const keyIDSize = 8

// KeyID names a signing key in a bundle: the first 8 bytes of the SHA-256 of its public key.
type KeyID [keyIDSize]byte

func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// IDOf is the key ID of pub.
func IDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	return KeyID(sum[:keyIDSize])
}

// GenerateKeyFiles writes a new Ed25519 key pair: the private key to path (PKCS#8 PEM, mode
// 0600) and the public key to path.pub (PKIX PEM, mode 0644). It overwrites neither.
func GenerateKeyFiles(path string) (KeyID, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyID{}, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return KeyID{}, fmt.Errorf("encode private key: %w", err)
	}
	for _, f := range []string{path, path + ".pub"} {
		if _, err := os.Lstat(f); err == nil {
			return KeyID{}, fmt.Errorf("%s exists: a key is not overwritten (remove it first, if it is really to go)", f)
		}
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return KeyID{}, err
	}
	if err := writeNew(path+".pub", MarshalPublicKey(pub), 0o644); err != nil {
		os.Remove(path)
		return KeyID{}, err
	}
	return IDOf(pub), nil
}

// writeNew creates path with mode, failing if it exists, and syncs it.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadPrivateKey reads a private key written by GenerateKeyFiles (or openssl genpkey -algorithm
// ed25519).
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key", path, k)
	}
	return priv, nil
}

// ParsePublicKey reads a public key in PKIX PEM, as GenerateKeyFiles writes it to KEY.pub.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM block of type PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return pub, nil
}

// ReadPublicKey reads a public key file.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%s: not a PEM block of type %s", path, typ)
	}
	return blk.Bytes, nil
}
