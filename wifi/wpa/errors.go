package wpa

import (
	"errors"
	"strings"
)

// Errors a *CommandError unwraps to.
var (
	// ErrFailed: wpa_supplicant answered "FAIL" or "FAIL-<reason>".
	ErrFailed = errors.New("command failed")
	// ErrUnknownCommand: wpa_supplicant answered "UNKNOWN COMMAND".
	ErrUnknownCommand = errors.New("unknown command")
)

// A CommandError is a command that wpa_supplicant refused.
type CommandError struct {
	Path    string // the control socket
	Command string // the command, with any secret value replaced by "***"
	Reply   string // "FAIL", "FAIL-BUSY", "UNKNOWN COMMAND", …
}

func (e *CommandError) Error() string {
	return "wpa_supplicant " + e.Path + ": " + e.Command + ": " + e.Reply
}

// Unwrap returns ErrUnknownCommand or ErrFailed.
func (e *CommandError) Unwrap() error {
	if e.Reply == "UNKNOWN COMMAND" {
		return ErrUnknownCommand
	}
	return ErrFailed
}

func isFailure(reply string) bool {
	return reply == "UNKNOWN COMMAND" || strings.HasPrefix(reply, "FAIL")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// maskCommand returns cmd fit for an error or a log: the value of a network
// or credential variable that holds a secret, and the value of a CTRL-RSP-
// reply (EAP password, PIN), become "***".
func maskCommand(cmd string) string {
	if rest, ok := strings.CutPrefix(cmd, "CTRL-RSP-"); ok {
		if field, _, ok := strings.Cut(rest, ":"); ok {
			return "CTRL-RSP-" + field + ":***"
		}
		return cmd
	}
	f := strings.SplitN(cmd, " ", 4)
	if len(f) == 4 && (f[0] == "SET_NETWORK" || f[0] == "SET_CRED") && secretVar(f[2]) {
		return strings.Join(f[:3], " ") + " ***"
	}
	return cmd
}

// secretVar reports whether a network or credential variable holds a key.
func secretVar(name string) bool {
	switch name {
	case "psk", "sae_password", "password", "passphrase",
		"wep_key0", "wep_key1", "wep_key2", "wep_key3",
		"private_key_passwd", "private_key2_passwd",
		"pin", "pin2", "milenage":
		return true
	}
	return false
}
