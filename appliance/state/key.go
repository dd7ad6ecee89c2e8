package state

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is wrapped by the errors for keys that cannot be stored.
var ErrInvalidKey = errors.New("invalid key")

const (
	recSuffix  = ".rec"
	tmpSuffix  = ".tmp"
	maxNameLen = 255 // NAME_MAX on ext4, f2fs, vfat, btrfs

	// MaxKeyLen is the longest key in bytes: its base64url encoding is
	// 251 characters, which with ".rec" fills a 255-byte file name.
	MaxKeyLen = 188
)

// fileName returns the file name that stores key.
func fileName(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("%w %q: keys must not be empty", ErrInvalidKey, key)
	}
	if n := base64.RawURLEncoding.EncodedLen(len(key)) + len(recSuffix); n > maxNameLen {
		return "", fmt.Errorf("%w %.40q… (%d bytes): its file name would be %d bytes, the limit is %d, so keys may be at most %d bytes",
			ErrInvalidKey, key, len(key), n, maxNameLen, MaxKeyLen)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key)) + recSuffix, nil
}

// keyFromName is the inverse of fileName. Strict decoding makes the
// mapping one-to-one: no second file name decodes to the same key.
func keyFromName(name string) (string, bool) {
	enc, ok := strings.CutSuffix(name, recSuffix)
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}
