package wpa

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Status is the reply to STATUS.
type Status struct {
	// State is wpa_state: DISCONNECTED, INTERFACE_DISABLED, INACTIVE,
	// SCANNING, AUTHENTICATING, ASSOCIATING, ASSOCIATED, 4WAY_HANDSHAKE,
	// GROUP_HANDSHAKE or COMPLETED.
	State     string
	SSID      string // decoded: the raw SSID bytes
	BSSID     string
	Freq      int    // MHz
	KeyMgmt   string // WPA2-PSK, SAE, NONE, …
	IPAddress string // when wpa_supplicant knows one
	Address   string // the interface's own MAC address
	NetworkID int    // the configured network in use, -1 when none
	// Raw holds every line as sent, values still escaped.
	Raw map[string]string
}

// Connected reports whether the state is COMPLETED.
func (s Status) Connected() bool { return s.State == "COMPLETED" }

// Status asks for the connection status.
func (c *Conn) Status(ctx context.Context) (Status, error) {
	reply, err := c.Request(ctx, "STATUS")
	if err != nil {
		return Status{}, err
	}
	st, err := parseStatus(reply)
	if err != nil {
		return Status{}, c.errorf("STATUS", err)
	}
	return st, nil
}

func parseStatus(reply string) (Status, error) {
	st := Status{NetworkID: -1, Raw: map[string]string{}}
	for _, line := range strings.Split(reply, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		st.Raw[k] = v
		switch k {
		case "wpa_state":
			st.State = v
		case "ssid":
			st.SSID = unescape(v)
		case "bssid":
			st.BSSID = v
		case "freq":
			st.Freq, _ = strconv.Atoi(v)
		case "key_mgmt":
			st.KeyMgmt = v
		case "ip_address":
			st.IPAddress = v
		case "address":
			st.Address = v
		case "id":
			st.NetworkID = -1
			if id, err := strconv.Atoi(v); err == nil {
				st.NetworkID = id
			}
		}
	}
	if st.State == "" {
		return Status{}, fmt.Errorf("no wpa_state in reply %q", firstLine(reply))
	}
	return st, nil
}

// A BSS is one line of SCAN_RESULTS.
type BSS struct {
	BSSID  string
	Freq   int    // MHz
	Signal int    // dBm (or the driver's level units)
	Flags  string // e.g. "[WPA2-PSK-CCMP][ESS]"
	SSID   string // decoded: the raw SSID bytes
}

// ScanResults returns the BSSs of the last scan. wpa_supplicant cuts the
// reply at 4 KiB, some 50 entries.
func (c *Conn) ScanResults(ctx context.Context) ([]BSS, error) {
	reply, err := c.Request(ctx, "SCAN_RESULTS")
	if err != nil {
		return nil, err
	}
	bss, err := parseScanResults(reply)
	if err != nil {
		return nil, c.errorf("SCAN_RESULTS", err)
	}
	return bss, nil
}

func parseScanResults(reply string) ([]BSS, error) {
	var list []BSS
	for i, line := range strings.Split(reply, "\n") {
		if line == "" || i == 0 && strings.HasPrefix(line, "bssid /") {
			continue
		}
		f := strings.SplitN(line, "\t", 5)
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d %q: want 5 tab-separated fields", i+1, line)
		}
		freq, err1 := strconv.Atoi(f[1])
		signal, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %d %q: bad frequency or signal", i+1, line)
		}
		list = append(list, BSS{BSSID: f[0], Freq: freq, Signal: signal, Flags: f[3], SSID: unescape(f[4])})
	}
	return list, nil
}

// NetworkInfo is one line of LIST_NETWORKS.
type NetworkInfo struct {
	ID    int
	SSID  string // decoded: the raw SSID bytes
	BSSID string // "any" unless pinned
	Flags string // e.g. "[CURRENT]", "[DISABLED]", "[TEMP-DISABLED]"
}

// ListNetworks returns the configured networks.
func (c *Conn) ListNetworks(ctx context.Context) ([]NetworkInfo, error) {
	reply, err := c.Request(ctx, "LIST_NETWORKS")
	if err != nil {
		return nil, err
	}
	nets, err := parseListNetworks(reply)
	if err != nil {
		return nil, c.errorf("LIST_NETWORKS", err)
	}
	return nets, nil
}

func parseListNetworks(reply string) ([]NetworkInfo, error) {
	var list []NetworkInfo
	for i, line := range strings.Split(reply, "\n") {
		if line == "" || i == 0 && strings.HasPrefix(line, "network id /") {
			continue
		}
		f := strings.SplitN(line, "\t", 4)
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d %q: want 4 tab-separated fields", i+1, line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d %q: bad network id", i+1, line)
		}
		n := NetworkInfo{ID: id, SSID: unescape(f[1]), BSSID: f[2]}
		if len(f) == 4 {
			n.Flags = f[3]
		}
		list = append(list, n)
	}
	return list, nil
}
