package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/wifi"
)

// newWifi builds the WiFi subsystem and its resources: /sys/wifi (the link's state, observable)
// and /sys/wifi/scan (the access points in range). Keys stay inside the subsystem.
func newWifi(cfg config.Wifi, srv *coap.Server, opts Options, keep *wifiStatus, log *slog.Logger) (*wifi.Manager, error) {
	state, err := srv.AddResource("sys/wifi", coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET),
		coap.WithValue([]byte("{}")), coap.WithAttribute("rt", "pigw.wifi"), coap.WithHidden())
	if err != nil {
		return nil, err
	}
	nets := make([]wifi.Network, 0, len(cfg.Networks))
	for _, n := range cfg.Networks {
		// wpa_supplicant takes priorities from 0; the config's -1000..1000 keeps its order.
		nets = append(nets, wifi.Network{SSID: n.SSID, PSK: string(n.PSK), Security: n.Security, Hidden: n.Hidden, Priority: n.Priority + 1000})
	}
	m, err := wifi.NewManager(wifi.Config{
		Interface: cfg.Interface, Country: cfg.Country, Backend: cfg.Backend, Networks: nets, Logger: log,
		OnState: func(s wifi.State) { keep.set(s); _ = state.SetValue(marshal(s)) }, Track: opts.Track, Untrack: opts.Untrack,
	})
	if err != nil {
		return nil, err
	}
	sc := &scanCache{m: m, log: log}
	_, err = srv.AddResource("sys/wifi/scan", coap.WithAttribute("rt", "pigw.wifi.scan"), coap.WithHidden(),
		coap.WithHandler(coap.GET, sc.answer))
	return m, err
}

// scanCache answers /sys/wifi/scan at once from the latest scan, and starts a new one in the
// background when that is older than scanMaxAge: a scan takes seconds, and a handler must not
// hold up the server's reader.
type scanCache struct {
	m   *wifi.Manager
	log *slog.Logger

	mu       sync.Mutex
	bss      []wifi.BSS
	at       time.Time
	err      string
	scanning bool
}

const scanMaxAge = 10 * time.Second

func (c *scanCache) answer(coap.Incoming) coap.Answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > scanMaxAge && !c.scanning {
		c.scanning = true
		go c.refresh()
	}
	body := map[string]any{"scanning": c.scanning, "access_points": c.bss}
	if !c.at.IsZero() {
		body["age_seconds"] = int(time.Since(c.at).Seconds())
	}
	if c.err != "" {
		body["error"] = c.err
	}
	return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: marshal(body)}
}

func (c *scanCache) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bss, err := c.m.Scan(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanning, c.at, c.err = false, time.Now(), ""
	if err != nil {
		c.err = fmt.Sprintf("scan: %v", err)
		c.log.Warn("wifi scan", "err", err)
		return
	}
	if bss == nil {
		bss = []wifi.BSS{}
	}
	c.bss = bss
}
