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

// keyFromName is the inverse of fileName. Only the name fileName gives
// for a key decodes to it, so no two files hold one key: the decoder
// alone would also take names with a '\r' or '\n' anywhere, which it
// skips, and names too long for the keys Put takes.
func keyFromName(name string) (string, bool) {
	enc, ok := strings.CutSuffix(name, recSuffix)
	if !ok || len(name) > maxNameLen {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(b) == 0 || base64.RawURLEncoding.EncodeToString(b) != enc {
		return "", false
	}
	return string(b), true
}
