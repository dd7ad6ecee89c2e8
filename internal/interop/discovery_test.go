package interop

import "testing"

// TestDiscovery checks GET /.well-known/core and its query filters over
// unicast, as libcoap sees them.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	s := startServer(t, seedConfig(""))
	const all = `</resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs`
	tests := []struct {
		query, want string
	}{
		{"", all},
		{"?title=resource1", `</resource1>;title="resource1";ct=0;obs`},
		{"?ct=41", `</resource2>;ct=41;obs`},
		{"?ct=0", `</resource1>;title="resource1";ct=0;obs`},
		{"?href=/resource*", all},
		{"?href=/resource2", `</resource2>;ct=41;obs`},
		{"?title=res*", `</resource1>;title="resource1";ct=0;obs`},
		{"?rt=x", ""},
		{"?title=nothing", ""},
	}
	for _, tc := range tests {
		t.Run("q="+tc.query, func(t *testing.T) {
			r := coapClient(t, "-m", "get", s.URL(".well-known/core"+tc.query))
			check(t, r, "2.05", ptr(tc.want), map[string]string{"Content-Format": "application/link-format"})
		})
	}
	t.Run("IPv6", func(t *testing.T) {
		r := coapClient(t, "-m", "get", s.URL6(".well-known/core"))
		check(t, r, "2.05", ptr(all), nil)
	})
	t.Run("POST is 4.05", func(t *testing.T) {
		r := coapClient(t, "-m", "post", "-e", "x", s.URL(".well-known/core"))
		check(t, r, "4.05", nil, nil)
	})
}
