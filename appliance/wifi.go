package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/wifi"
)

// newWifi builds the WiFi subsystem and its resources: /sys/wifi (the link's state, observable)
// and /sys/wifi/scan (the access points in range). Keys stay inside the subsystem.
func newWifi(cfg Wifi, srv *coap.Server, opts Options, log *slog.Logger) (*wifi.Manager, error) {
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
		OnState: func(s wifi.State) { _ = state.SetValue(marshal(s)) }, Track: opts.Track, Untrack: opts.Untrack,
	})
	if err != nil {
		return nil, err
	}
	_, err = srv.AddResource("sys/wifi/scan", coap.WithAttribute("rt", "pigw.wifi.scan"), coap.WithHidden(),
		coap.WithHandler(coap.GET, func(coap.Incoming) coap.Answer {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			bss, err := m.Scan(ctx)
			if err != nil {
				return coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: []byte(fmt.Sprintf("scan: %v", err))}
			}
			return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: marshal(bss)}
		}))
	return m, err
}
