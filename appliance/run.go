package appliance

import (
	"context"
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
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("coap server ready", "resources", len(srv.Resources()), "service_discovery", cfg.CoAP.ServiceDiscovery, "dynamic_resources", cfg.CoAP.DynamicResources)
	return srv.Serve(ctx)
}
