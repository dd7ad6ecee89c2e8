package update

import (
	"bytes"
	"fmt"
	"strconv"
)

// rootPartition finds root=PARTUUID=<disk id>-<nn> in a kernel command line, as pigw's image
// writes it, and returns the byte offset of <nn> and the partition number. Anything else (a
// root= the user edited by hand) is an error that names what was found: updates need to know
// which slot the card boots.
func rootPartition(cmdline []byte) (off int, partition int, err error) {
	const key = "root=PARTUUID="
	var found []byte
	for start := 0; start < len(cmdline); {
		end := start + bytes.IndexAny(cmdline[start:], " \t\n")
		if end < start {
			end = len(cmdline)
		}
		word := cmdline[start:end]
		if bytes.HasPrefix(word, []byte("root=")) {
			if found != nil {
				return 0, 0, fmt.Errorf("more than one root= option")
			}
			found = word
			off = start
		}
		start = end + 1
	}
	if found == nil {
		return 0, 0, fmt.Errorf("no root= option")
	}
	id := found[len(key):]
	if !bytes.HasPrefix(found, []byte(key)) || len(id) != 11 || id[8] != '-' {
		return 0, 0, fmt.Errorf("%q: must be root=PARTUUID=<8 hex digits>-<2 digits>, as pigw image build writes it", found)
	}
	if _, err := strconv.ParseUint(string(id[:8]), 16, 32); err != nil {
		return 0, 0, fmt.Errorf("%q: the disk id must be 8 hex digits", found)
	}
	n, err := strconv.Atoi(string(id[9:]))
	if err != nil {
		return 0, 0, fmt.Errorf("%q: the partition must be 2 digits", found)
	}
	return off + len(key) + 9, n, nil
}
