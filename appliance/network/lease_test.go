package network

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/network/dhcp4"
	"github.com/pigw/pigw/internal/fuzzcheck"
)

// savedLease is a lease as dnsmasq gives it (see dhcp4's captures), acquired at a time.
func savedLease() dhcp4.Lease {
	return dhcp4.Lease{
		Address: netip.MustParsePrefix("10.99.0.145/24"), Router: netip.MustParseAddr("10.99.0.1"),
		DNS:    []netip.Addr{netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")},
		Server: netip.MustParseAddr("10.99.0.1"), Duration: 2 * time.Minute, T1: time.Minute, T2: 105 * time.Second,
		Acquired: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Hostname: "pigw-test", Domain: "pigw.test",
	}
}

// A lease file is read back as saved; a damaged one is an error that names the file, and the
// DHCP client then starts without a previous lease.
func TestLoadLease(t *testing.T) {
	dir := t.TempDir()
	s := newStatic(Config{LeaseDir: dir}, slog.New(slog.DiscardHandler), nil, nil)
	want := savedLease()
	if err := s.saveLease("eth0", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.loadLease("eth0")
	if err != nil || !reflect.DeepEqual(got.DNS, want.DNS) || !got.Acquired.Equal(want.Acquired) || got.String() != want.String() {
		t.Fatalf("loadLease = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.loadLease("eth1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no file: %v", err)
	}
	// Found while writing FuzzLeaseFile: a file that decodes as JSON was taken whatever it
	// held, and the client asked for (and, without a server, used) an IPv6 address, a /0 or
	// a lease without times.
	for _, damaged := range []string{`{"Address":"10.99.0.1`, `{"Address":"fe80::1/64","Server":"10.99.0.1","Duration":120000000000,"T1":60000000000,"T2":105000000000}`, `{"Address":"10.99.0.145/0"}`, `{}`, `null`} {
		if err := os.WriteFile(s.leaseFile("wlan0"), []byte(damaged), 0o600); err != nil {
			t.Fatal(err)
		}
		if l, err := s.loadLease("wlan0"); err == nil || !strings.Contains(err.Error(), s.leaseFile("wlan0")) {
			t.Errorf("%s: loadLease = %+v, %v; want an error naming the file", damaged, l, err)
		}
	}
}

// FuzzLeaseFile reads lease files as the next boot finds them. A lease read is one Validate
// passes, and saved again it reads back the same.
func FuzzLeaseFile(f *testing.F) {
	b, err := json.Marshal(savedLease())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	for _, s := range []string{
		`{"Address":"fe80::1/64","Server":"10.99.0.1","Duration":120000000000,"T1":60000000000,"T2":105000000000}`,
		`{"Address":"10.99.0.145/0","Server":"10.99.0.1","Duration":120000000000,"T1":60000000000,"T2":105000000000}`,
		`{"Address":"10.99.0.145/24","Server":"10.99.0.1","Duration":-1,"T1":60000000000,"T2":105000000000}`,
		`{"Address":"10.99.0.145/24","Server":"10.99.0.1","Duration":120000000000,"T1":105000000000,"T2":60000000000}`,
		`{"Address":"10.99.0.145/24","Router":"0.0.0.0","Server":"10.99.0.1","Duration":120000000000,"T1":60000000000,"T2":105000000000}`,
		`{}`, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l dhcp4.Lease
		var err error
		fuzzcheck.Bounded(t, len(b), 64, func() { l, err = decodeLease(b) })
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("%s: read %+v: %v", b, l, err)
		}
		saved, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("%s: read %+v, which does not save: %v", b, l, err)
		}
		again, err := decodeLease(saved)
		if err != nil {
			t.Fatalf("%s: read %+v, saved as %s, which reads as %v", b, l, saved, err)
		}
		if !again.Acquired.Equal(l.Acquired) {
			t.Fatalf("acquired %v, read back as %v", l.Acquired, again.Acquired)
		}
		again.Acquired, l.Acquired = time.Time{}, time.Time{}
		if !reflect.DeepEqual(again, l) {
			t.Fatalf("%s: read %+v, saved as %s, read back as %+v", b, l, saved, again)
		}
	})
}
