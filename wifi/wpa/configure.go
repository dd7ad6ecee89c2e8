package wpa

import (
	"context"
	"fmt"
	"strconv"
)

// Configure replaces wpa_supplicant's networks with nets: REMOVE_NETWORK all,
// then for each network ADD_NETWORK, SET_NETWORK for each variable and
// ENABLE_NETWORK, then RECONNECT. Every network is validated before the first
// command is sent. Nothing is saved to wpa_supplicant's configuration file;
// pigw configures it again at each start. An empty list removes every
// network.
//
// Variables sent (values as wpa_supplicant parses them):
//
//	ssid          hex, unquoted, so any bytes work
//	key_mgmt      NONE (open), WPA-PSK (wpa2), SAE (wpa3), "WPA-PSK SAE" (wpa2/wpa3)
//	psk           "passphrase" quoted, or 64 hex digits unquoted (wpa2, wpa2/wpa3)
//	sae_password  "passphrase" quoted (wpa3, wpa2/wpa3)
//	ieee80211w    2 (wpa3: MFP required), 1 (wpa2/wpa3: MFP optional)
//	scan_ssid     1 for a hidden network
//	priority      when not 0
//
// If a command fails, the networks added so far stay; call Configure again.
func (c *Conn) Configure(ctx context.Context, nets []Network) error {
	all := make([][]setting, len(nets))
	for i, n := range nets {
		s, err := n.settings()
		if err != nil {
			return err
		}
		all[i] = s
	}
	if err := c.expectOK(ctx, "REMOVE_NETWORK all"); err != nil {
		return err
	}
	for i, n := range nets {
		id, err := c.AddNetwork(ctx)
		if err != nil {
			return fmt.Errorf("network %v: %w", n, err)
		}
		for _, s := range all[i] {
			if err := c.SetNetwork(ctx, id, s.name, s.value); err != nil {
				return fmt.Errorf("network %v: %w", n, err)
			}
		}
		if err := c.EnableNetwork(ctx, id); err != nil {
			return fmt.Errorf("network %v: %w", n, err)
		}
	}
	return c.Reconnect(ctx)
}

// AddNetwork adds an empty, disabled network and returns its id.
func (c *Conn) AddNetwork(ctx context.Context) (int, error) {
	const cmd = "ADD_NETWORK"
	reply, err := c.Request(ctx, cmd)
	if err != nil {
		return 0, err
	}
	id, err := strconv.Atoi(reply)
	if err != nil || id < 0 {
		return 0, c.errorf(cmd, fmt.Errorf("unexpected reply %q", firstLine(reply)))
	}
	return id, nil
}

// SetNetwork sets one variable of network id. value is sent as it is, so
// strings must be quoted ("\"text\"") or hex; see Configure. Errors show a
// secret value as "***".
func (c *Conn) SetNetwork(ctx context.Context, id int, name, value string) error {
	return c.expectOK(ctx, "SET_NETWORK "+strconv.Itoa(id)+" "+name+" "+value)
}
