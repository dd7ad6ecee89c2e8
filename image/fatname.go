package image

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// fatNames encodes the names of one directory's entries: each as its long-name entries (none
// for a name that is already upper-case 8.3), followed by a 32-byte entry holding the short
// name in its first 11 bytes.
func fatNames(names []string) ([][]byte, error) {
	used := map[string]bool{}
	folded := map[string]string{}
	var out [][]byte
	for _, n := range names {
		if strings.ContainsAny(n, `/\:*?"<>|`) || strings.IndexFunc(n, func(r rune) bool { return r < 0x20 }) >= 0 || len(utf16.Encode([]rune(n))) > 255 {
			return nil, fmt.Errorf("%q is not a valid FAT file name", n)
		}
		if o, ok := folded[strings.ToUpper(n)]; ok {
			return nil, fmt.Errorf("%q and %q are one name on FAT, which ignores case", o, n)
		}
		folded[strings.ToUpper(n)] = n
		short, plain := fatShortName(n)
		if !plain {
			for i := 1; ; i++ {
				short = fatTail(n, i)
				if !used[string(short)] {
					break
				}
			}
		}
		used[string(short)] = true
		e := make([]byte, fatEntry)
		copy(e, short)
		if !plain {
			e = append(fatLFN(n, short), e...)
		}
		out = append(out, e)
	}
	return out, nil
}

func padName(s string) []byte { return []byte(fmt.Sprintf("%-11s", s)) }

const fatShortChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~"

// fatShortName returns name as an 11-byte short name and whether it is one as it is.
func fatShortName(name string) ([]byte, bool) {
	base, ext, _ := strings.Cut(name, ".")
	ok := base != "" && len(base) <= 8 && len(ext) <= 3 && !strings.Contains(ext, ".") &&
		(ext != "" || !strings.HasSuffix(name, "."))
	for _, r := range base + ext {
		ok = ok && strings.ContainsRune(fatShortChars, r)
	}
	return []byte(fmt.Sprintf("%-8s%-3s", base, ext)), ok
}

// fatTail makes the i-th short name for a long name: its first characters and ~i, and the
// first three characters of its extension.
func fatTail(name string, i int) []byte {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			switch {
			case r == ' ' || r == '.':
			case strings.ContainsRune(fatShortChars, r):
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	trimmed := strings.TrimLeft(name, ".")
	base, ext := trimmed, ""
	if j := strings.LastIndex(trimmed, "."); j > 0 {
		base, ext = trimmed[:j], trimmed[j+1:]
	}
	base, ext = clean(base), clean(ext)
	tail := "~" + strconv.Itoa(i)
	if len(base) > 8-len(tail) {
		base = base[:8-len(tail)]
	}
	if len(ext) > 3 {
		ext = ext[:3]
	}
	return []byte(fmt.Sprintf("%-8s%-3s", base+tail, ext))
}

// fatLFN encodes the long-name entries of name, last part first, as they precede the short
// entry on disk.
func fatLFN(name string, short []byte) []byte {
	var sum byte
	for _, c := range short[:11] {
		sum = (sum&1)<<7 + sum>>1 + c
	}
	u := utf16.Encode([]rune(name))
	if len(u)%13 != 0 {
		u = append(u, 0)
		for len(u)%13 != 0 {
			u = append(u, 0xffff)
		}
	}
	parts := len(u) / 13
	var b []byte
	for i := parts; i >= 1; i-- {
		e := make([]byte, fatEntry)
		e[0] = byte(i)
		if i == parts {
			e[0] |= 0x40
		}
		e[11] = fatAttrLFN
		e[13] = sum
		chars := u[(i-1)*13 : i*13]
		for j, c := range chars {
			off := [13]int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30}[j]
			e[off], e[off+1] = byte(c), byte(c>>8)
		}
		b = append(b, e...)
	}
	return b
}
