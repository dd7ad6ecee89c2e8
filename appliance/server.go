package appliance

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
)

// newCoAPServer builds the CoAP server the config describes, with its resources, the state
// kept from earlier runs, and the new-resource handler.
func newCoAPServer(cfg *config.CoAP, store *resourceStore, log *slog.Logger) (*coap.Server, error) {
	ccfg := coap.Config{
		Listen:           cfg.Listen,
		ServiceDiscovery: cfg.ServiceDiscovery,
		DiscoveryLeisure: time.Duration(cfg.DiscoveryLeisure),
		DynamicResources: cfg.DynamicResources,
		Observe:          coap.ObserveConfig{MinInterval: time.Duration(cfg.Observe.MinInterval), ConEvery: cfg.Observe.ConEvery},
		Limits: coap.Limits{
			MaxResources: cfg.Limits.MaxResources, MaxURILength: cfg.Limits.MaxURILength, MaxValueSize: cfg.Limits.MaxValueSize,
			MaxObservers: cfg.Limits.MaxObservers, DedupEntries: cfg.Limits.DedupEntries, BlockTransfers: cfg.Limits.BlockTransfers,
		},
		Logger:   log,
		Reserved: []string{"sys"},
	}
	if d := cfg.DTLS; d != nil {
		keys := map[string][]byte{}
		for _, k := range d.Keys {
			keys[k.Identity] = k.Key
		}
		ccfg.DTLS = &coap.DTLSConfig{Listen: d.Listen, Hint: d.Hint, Keys: keys}
		if len(d.PSK) > 0 {
			ccfg.DTLS.PSK = d.PSK
		}
	}
	if cfg.Limits.MaxObservers == 0 {
		ccfg.Limits.MaxObservers = -1 // the config's 0 turns observe off
	}
	if store != nil {
		ccfg.Persister = store
	}
	srv, err := coap.NewServer(ccfg)
	if err != nil {
		return nil, err
	}
	for i, rc := range cfg.Resources {
		opts, err := resourceOptions(rc)
		if err != nil {
			return nil, fmt.Errorf("coap.resources[%d]: %w", i, err)
		}
		if _, err := srv.AddResource(rc.URI, opts...); err != nil {
			return nil, fmt.Errorf("coap.resources[%d]: %w", i, err)
		}
	}
	if store != nil {
		restore(srv, store, log)
	}
	srv.OnNewResource(newResourceHandler(cfg.NewResourceDetails, log))
	return srv, nil
}

func resourceOptions(rc config.Resource) ([]coap.ResourceOption, error) {
	opts := []coap.ResourceOption{coap.WithValue([]byte(rc.Value))}
	if rc.MediaType != nil {
		opts = append(opts, coap.WithMediaType(coap.MediaType(*rc.MediaType)))
	}
	if rc.MaxAge != nil {
		opts = append(opts, coap.WithMaxAge(int(*rc.MaxAge)))
	}
	if rc.ETag {
		opts = append(opts, coap.WithETag())
	}
	for _, a := range rc.Attributes {
		opts = append(opts, coap.WithAttribute(a.Name, a.Value))
	}
	for _, name := range rc.Methods {
		m, err := coap.ParseMethod(name)
		if err != nil {
			return nil, err
		}
		opts = append(opts, coap.WithMethods(m))
	}
	return opts, nil
}

// restore applies the snapshots kept by earlier runs and says what it recovered.
func restore(srv *coap.Server, store *resourceStore, log *slog.Logger) {
	snaps, err := store.snapshots()
	if err != nil {
		log.Error("some stored resources are damaged and were skipped", "err", err)
	}
	counts := map[string]int{}
	for _, snap := range snaps {
		what, err := srv.Restore(snap)
		if err != nil {
			log.Error("stored resource not restored", "uri", snap.URI, "err", err)
			continue
		}
		counts[what]++
		log.Debug("restored", "uri", snap.URI, "what", what)
	}
	if len(snaps) > 0 {
		log.Info("state recovered", "dir", store.dir.Path(), "values", counts["restored"], "dynamic_resources", counts["created"], "deleted", counts["deleted"])
	}
}

// newResourceHandler logs a resource created by PUT the way the tutorial's handler prints it,
// then applies new_resource_details as the tutorial's handler does with set_details.
func newResourceHandler(details *config.Details, log *slog.Logger) func(*coap.Resource) {
	return func(r *coap.Resource) {
		d, value := r.Details(), r.Value() // as created, which is what the tutorial prints
		if details != nil {
			nd := coap.Details{MediaType: coap.NoMediaType, MaxAge: coap.NoMaxAge, ETag: details.ETag}
			if details.MediaType != nil {
				nd.MediaType = coap.MediaType(*details.MediaType)
			}
			if details.MaxAge != nil {
				nd.MaxAge = int(*details.MaxAge)
			}
			if err := r.SetDetails(nd); err != nil {
				log.Error("set details of new resource", "uri", d.URI, "err", err)
			}
		}
		// Logged after the details are set, so whoever sees the line sees the final resource.
		log.Info("New resource has been created!", "uri", d.URI, "mediatype", d.MediaType.String(), "max_age", d.MaxAge,
			"etag", d.ETag, "etag_value", d.ETagValue, "value", string(value))
	}
}
