package gpio

import (
	"fmt"
	"strings"
)

// Parse reads what a client PUTs to an output: "0", "1", "on", "off", "true", "false" or
// "toggle", in any case, with surrounding space allowed. toggle is true for "toggle", and
// level is then meaningless.
func Parse(s string) (level bool, toggle bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "on", "true":
		return true, false, nil
	case "0", "off", "false":
		return false, false, nil
	case "toggle":
		return false, true, nil
	}
	return false, false, fmt.Errorf("gpio: level %q: want 0, 1, on, off, true, false or toggle", s)
}
