package wpa

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// expectOK sends cmd and requires the reply "OK".
func (c *Conn) expectOK(ctx context.Context, cmd string) error {
	reply, err := c.Request(ctx, cmd)
	if err != nil {
		return err
	}
	if reply != "OK" {
		return c.errorf(cmd, fmt.Errorf("unexpected reply %q", firstLine(reply)))
	}
	return nil
}

// Ping checks that wpa_supplicant answers.
func (c *Conn) Ping(ctx context.Context) error {
	reply, err := c.Request(ctx, "PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return c.errorf("PING", fmt.Errorf("unexpected reply %q", firstLine(reply)))
	}
	return nil
}

// SetCountry sets the regulatory domain: two ASCII letters (ISO 3166-1
// alpha-2, either case) or "00" for the world domain.
func (c *Conn) SetCountry(ctx context.Context, cc string) error {
	if !validCountry(cc) {
		return fmt.Errorf("wpa_supplicant %s: country %q is not two ASCII letters or 00", c.path, cc)
	}
	return c.expectOK(ctx, "SET country "+strings.ToUpper(cc))
}

func validCountry(cc string) bool {
	if cc == "00" {
		return true
	}
	if len(cc) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		if ch := cc[i] | 0x20; ch < 'a' || ch > 'z' {
			return false
		}
	}
	return true
}

// Scan asks for a scan; CTRL-EVENT-SCAN-RESULTS (or -SCAN-FAILED) follows.
// While a scan runs wpa_supplicant answers "FAIL-BUSY", an error that
// unwraps to ErrFailed.
func (c *Conn) Scan(ctx context.Context) error { return c.expectOK(ctx, "SCAN") }

// Reconnect connects again after Disconnect (or Configure).
func (c *Conn) Reconnect(ctx context.Context) error { return c.expectOK(ctx, "RECONNECT") }

// Reassociate forces a new association even when connected.
func (c *Conn) Reassociate(ctx context.Context) error { return c.expectOK(ctx, "REASSOCIATE") }

// Disconnect disconnects and stays disconnected until Reconnect.
func (c *Conn) Disconnect(ctx context.Context) error { return c.expectOK(ctx, "DISCONNECT") }

// Terminate makes wpa_supplicant exit.
func (c *Conn) Terminate(ctx context.Context) error { return c.expectOK(ctx, "TERMINATE") }

// SelectNetwork enables network id and disables all others.
func (c *Conn) SelectNetwork(ctx context.Context, id int) error {
	return c.expectOK(ctx, "SELECT_NETWORK "+strconv.Itoa(id))
}

// EnableNetwork enables network id.
func (c *Conn) EnableNetwork(ctx context.Context, id int) error {
	return c.expectOK(ctx, "ENABLE_NETWORK "+strconv.Itoa(id))
}

// DisableNetwork disables network id.
func (c *Conn) DisableNetwork(ctx context.Context, id int) error {
	return c.expectOK(ctx, "DISABLE_NETWORK "+strconv.Itoa(id))
}

// RemoveNetwork removes network id.
func (c *Conn) RemoveNetwork(ctx context.Context, id int) error {
	return c.expectOK(ctx, "REMOVE_NETWORK "+strconv.Itoa(id))
}
