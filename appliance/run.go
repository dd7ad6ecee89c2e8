package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Run runs the appliance on cfg until ctx is done: for now the CoAP server, with its state
// kept in stateDir ("" keeps it in memory only).
func Run(ctx context.Context, cfg *Config, stateDir string, log *slog.Logger) error {
	var store *resourceStore
	if stateDir != "" {
		var err error
		if store, err = openResourceStore(stateDir); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		log.Info("state directory", "dir", stateDir)
	} else {
		log.Warn("no state directory: values written by clients last until the process ends")
	}
	srv, err := newCoAPServer(&cfg.CoAP, store, log)
	if err != nil {
		return err
	}
	ss, err := newSessions(cfg.Sessions, srv, log)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("coap server ready", "resources", len(srv.Resources()), "service_discovery", cfg.CoAP.ServiceDiscovery,
		"dynamic_resources", cfg.CoAP.DynamicResources, "dtls", cfg.CoAP.DTLS != nil, "sessions", len(cfg.Sessions))
	// The server and the sessions run side by side; when one ends, both do.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(ctx) }()
	go func() { errs <- ss.Run(ctx) }()
	first := <-errs
	cancel()
	return errors.Join(first, <-errs)
}
