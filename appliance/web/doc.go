// Package web serves the appliance's status page: one page a person opens in a browser on the
// LAN to see what the gateway is, how it is connected and what it does (its subsystems,
// resources, sensors, pins, client sessions, counters and log), and the same data as JSON under
// /api/ for scripts.
//
// The page is rendered on the server with html/template, so that it is complete without
// JavaScript; when JavaScript runs, a Server-Sent Events stream keeps it current without a
// reload. Its assets are embedded in the binary, because an appliance on a LAN is often
// offline. It is view-only: every route is GET or HEAD, nothing changes state, and what it
// shows comes from a Snapshot whose types hold no configuration, so no key can leak into it.
//
// A gateway must stay up whatever a browser does, so the server bounds what clients can take:
// connections per address, header size, read, write and idle times, and the number of event
// streams (one more gets 503 with Retry-After).
//
// The package does not import package appliance: the appliance hands it a Source.
package web
