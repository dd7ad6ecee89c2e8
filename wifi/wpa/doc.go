// Package wpa is a client for wpa_supplicant's control interface.
//
// pigw joins WiFi networks through wpa_supplicant, which it runs as a child
// process. The appliance image has no wpa_cli, no libwpa_client and no cgo,
// so this package speaks the control protocol itself: wpa_supplicant creates
// one unixgram socket per interface in its control directory (for example
// /run/wpa_supplicant/wlan0); a client binds its own datagram socket, sends a
// command as one datagram and reads the reply as one datagram.
//
// A Conn uses two sockets. The command socket is never attached, so a reply
// can not be confused with an event. The event socket is ATTACHed as a
// monitor and read continuously by one goroutine: wpa_supplicant detaches a
// monitor whose socket it fails to write to ten times, so that goroutine never
// blocks. It hands events to a buffered channel and, when the consumer falls
// behind, drops the oldest event and counts it (Conn.Dropped). It sends PING
// every few seconds; when that fails or goes unanswered, or wpa_supplicant
// says it is terminating, it re-attaches with back-off and reports both
// transitions as the synthetic events EventDetached and EventAttached, after
// which the consumer should read Status again because events may have been
// lost in between.
//
// Local socket addresses are abstract ("@pigw-wpa-<pid>-<random>") by
// default; Dialer.LocalDir binds them as files instead. Abstract addresses
// belong to a network namespace, so a client and a wpa_supplicant in
// different network namespaces must use LocalDir.
//
// WiFi keys never appear in errors, logs or the String, GoString and Format
// output of Network: commands that carry a secret are shown with the value
// replaced by "***", and networks are validated before anything is sent so
// that wpa_supplicant never rejects (and prints) a key.
package wpa
