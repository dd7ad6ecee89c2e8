package registration_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/registration"
)

// An LwM2M client registers its object instances at its server's rd, on the session that
// also serves the objects; a Resource Directory registration differs only in the query
// (no lwm2m= or b=) and the links (the endpoint's /.well-known/core).
func Example() {
	log := slog.Default()
	session, err := coap.NewClient(log).NewSession("leshan.example:5683", coap.SessionOptions{})
	if err != nil {
		log.Error("session", "err", err)
		return
	}
	reg, err := registration.New(registration.Config{
		Conn:     session,
		Server:   "coap://leshan.example:5683",
		Path:     "rd",
		Endpoint: "pigw-kitchen",
		Params:   []string{"lwm2m=1.1", "b=U"},
		Lifetime: 300 * time.Second,
		Links:    func() []byte { return []byte(`</>;rt="oma.lwm2m",</1/0>,</3/0>,</3303/0>`) },
		Logger:   log,
		OnChange: func(st registration.State) { log.Info("lwm2m", "registered", st.Registered, "location", st.Location) },
	})
	if err != nil {
		log.Error("registration", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = reg.Run(ctx) // as a supervisor subsystem: until ctx ends, then De-register
}
