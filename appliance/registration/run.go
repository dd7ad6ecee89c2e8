package registration

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// Run keeps the endpoint registered until ctx is done, then de-registers it and returns nil.
// Failures are retried, not returned: they are in the state and the log. Run is meant to be
// a supervisor subsystem's Run; it must not run twice at once.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("registration at %s: Run is already running", c.cfg.Server)
	}
	defer c.running.Store(false)
	failures, lost := 0, false
	for ctx.Err() == nil {
		if !c.State().Registered {
			wait := backoff(failures, c.cfg.MinBackoff, c.cfg.MaxBackoff, c.cfg.Jitter())
			var err error
			if lost && c.cfg.Reconnect != nil {
				err = c.reconnect(ctx, wait)
			}
			if err == nil {
				err = c.register(ctx, wait)
			}
			if ctx.Err() != nil {
				break
			}
			if err != nil {
				failures, lost = failures+1, true
				c.log.Warn("register failed", "err", err, "attempt", failures, "retry_in", wait)
				c.sleep(ctx, wait)
				continue
			}
			failures, lost = 0, false
		}
		c.sleep(ctx, c.State().NextUpdate.Sub(c.clock.Now()))
		if ctx.Err() != nil {
			break
		}
		if err := c.update(ctx); err != nil && ctx.Err() == nil {
			lost = true
			c.log.Warn("update failed, registering again", "err", err)
		}
	}
	c.deregister()
	return nil
}

// reconnect takes a new Conn from Config.Reconnect; if it fails, the state says why and that
// the next try is due after retry.
func (c *Client) reconnect(ctx context.Context, retry time.Duration) error {
	conn, err := c.cfg.Reconnect(ctx)
	if err != nil {
		err = fmt.Errorf("connect to %s: %w", c.cfg.Server, err)
		now := c.clock.Now()
		c.change(func(st *State) {
			c.fail(st, err)
			st.NextUpdate = now.Add(retry)
		})
		return err
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	return nil
}

// current is the Conn requests go out on.
func (c *Client) current() Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// sleep waits for d, for UpdateNow, or for ctx.
func (c *Client) sleep(ctx context.Context, d time.Duration) {
	t := c.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	case <-c.wake:
	}
}

// register sends Register and takes the registration's location from the answer; if it
// fails, the state says the next Register is due after retry.
func (c *Client) register(ctx context.Context, retry time.Duration) error {
	c.mu.Lock()
	lt, params := c.lifetime, slices.Clone(c.params)
	c.mu.Unlock()
	query := append([]string{"ep=" + c.cfg.Endpoint, "lt=" + strconv.FormatUint(uint64(seconds(lt)), 10)}, params...)
	for i, q := range query {
		query[i] = queryEscaper.Replace(q)
	}
	req := coap.NewRequest(coap.POST, c.cfg.Path+"?"+strings.Join(query, "&"))
	req.ContentFormat, req.Payload = coap.AppLinkFormat, c.cfg.Links()
	resp, err := c.current().Do(ctx, req)
	var location []string
	switch {
	case err != nil:
		err = fmt.Errorf("register at %s: %w", c.cfg.Server, err)
	case resp.Code != coap.Code(codes.Created):
		err = fmt.Errorf("register at %s: the server answered %s, want 2.01 Created", c.cfg.Server, describe(resp))
	default:
		if location = locationPath(resp); len(location) == 0 {
			err = fmt.Errorf("register at %s: the server answered 2.01 Created without a Location-Path, so there is no registration to update", c.cfg.Server)
		}
	}
	if err != nil && ctx.Err() != nil {
		return err // stopping, not failing
	}
	c.mu.Lock()
	if err == nil {
		c.told, c.toldPar, c.location = lt, params, location
	}
	c.mu.Unlock()
	now := c.clock.Now()
	c.change(func(st *State) {
		st.RegisterBytes = Bytes{resp.Sent, resp.Received}
		if err != nil {
			c.fail(st, err)
			st.NextUpdate = now.Add(retry)
			return
		}
		st.Registered, st.Location = true, strings.Join(location, "/")
		st.LastUpdate, st.NextUpdate = now, now.Add(updateDelay(lt))
		st.Registrations++
	})
	if err == nil {
		c.log.Info("registered", "location", strings.Join(location, "/"), "lifetime", lt,
			"bytes_sent", resp.Sent, "bytes_received", resp.Received)
	}
	return err
}

// update sends Update, with lt= when the lifetime changed and the parameters SetParam
// changed; an Update that fails leaves the client unregistered, so that Run registers again.
func (c *Client) update(ctx context.Context) error {
	c.mu.Lock()
	lt, told, at, params := c.lifetime, c.told, c.locationURI(), slices.Clone(c.params)
	var query []string
	if lt != told {
		query = append(query, "lt="+strconv.FormatUint(uint64(seconds(lt)), 10))
	}
	for _, p := range params {
		if !slices.Contains(c.toldPar, p) {
			query = append(query, queryEscaper.Replace(p))
		}
	}
	c.mu.Unlock()
	path := at
	if len(query) > 0 {
		path += "?" + strings.Join(query, "&")
	}
	resp, err := c.current().Do(ctx, coap.NewRequest(coap.POST, path))
	switch {
	case err != nil:
		err = fmt.Errorf("update %s at %s: %w", at, c.cfg.Server, err)
	case resp.Code.Class() != 2:
		err = fmt.Errorf("update %s at %s: the server answered %s, want 2.04 Changed", at, c.cfg.Server, describe(resp))
	}
	if err != nil && ctx.Err() != nil {
		return err // stopping: the registration is likely still there; de-register it
	}
	if err == nil {
		c.mu.Lock()
		c.told, c.toldPar = lt, params
		c.mu.Unlock()
	}
	now := c.clock.Now()
	c.change(func(st *State) {
		st.UpdateBytes = Bytes{resp.Sent, resp.Received}
		if err != nil {
			c.fail(st, err)
			st.Registered, st.Location, st.NextUpdate = false, "", now
			return
		}
		st.LastUpdate, st.NextUpdate = now, now.Add(updateDelay(lt))
		st.Updates++
	})
	if err == nil {
		c.log.Debug("updated", "location", at, "lifetime", lt, "bytes_sent", resp.Sent, "bytes_received", resp.Received)
	}
	return err
}

// deregister deletes the registration, if there is one, within DeregisterTimeout.
func (c *Client) deregister() {
	if !c.State().Registered {
		return
	}
	c.mu.Lock()
	at := c.locationURI()
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.DeregisterTimeout)
	defer cancel()
	resp, err := c.current().Do(ctx, coap.NewRequest(coap.DELETE, at))
	if err == nil && resp.Code.Class() != 2 {
		err = fmt.Errorf("the server answered %s, want 2.02 Deleted", describe(resp))
	}
	c.change(func(st *State) {
		st.Registered, st.Location, st.NextUpdate = false, "", time.Time{}
		if err != nil {
			c.fail(st, fmt.Errorf("de-register %s at %s: %w", at, c.cfg.Server, err))
		}
	})
	if err != nil {
		c.log.Warn("de-register failed; the registration expires at the server", "location", at, "err", err)
		return
	}
	c.log.Info("de-registered", "location", at)
}

// locationURI is the registration's location as a request path, its segments escaped so that
// a percent sign or a question mark in one survives (coap.Request.Path). c.mu is held.
func (c *Client) locationURI() string {
	segs := make([]string, len(c.location))
	for i, s := range c.location {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// locationPath is the answer's Location-Path, split at slashes: servers send "rd/1" as one
// option (lwm2m-node-lib) or as "rd" and "1" (Leshan, libcoap), and both mean the path rd/1.
func locationPath(r coap.Response) []string {
	var segs []string
	for _, o := range r.Options {
		if o.ID == uint16(message.LocationPath) {
			for _, s := range strings.Split(string(o.Value), "/") {
				if s != "" {
					segs = append(segs, s)
				}
			}
		}
	}
	return segs
}

// queryEscaper keeps a query parameter one Uri-Query option: coap.Request.Path splits at '&'
// and percent-decodes.
var queryEscaper = strings.NewReplacer("%", "%25", "&", "%26")

// describe names an answer's code, with its diagnostic payload when it has a readable one
// (RFC 7252 §5.5.2).
func describe(r coap.Response) string {
	s := fmt.Sprintf("%s %v", r.Code, codes.Code(r.Code))
	if d := r.Payload; len(d) > 0 && utf8.Valid(d) {
		s += fmt.Sprintf(" (%q)", truncate(string(d), 120))
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
