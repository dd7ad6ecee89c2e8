// Package fuzzcheck has what pigw's fuzz targets check besides "no panic": that a parser of
// outside input allocates in proportion to the input it was given, and not to a length the
// input claims. A record header, a CBOR array or a CoAP option that announces gigabytes must
// be checked against the bytes that are there before anything is allocated for it; a fuzzer
// finds the inputs that are not, and Bounded turns them into failures.
package fuzzcheck

import (
	"runtime/metrics"
	"testing"
)

// Allocated runs fn and returns the heap bytes allocated meanwhile, as the runtime counts them:
// at once for objects over 32 KiB (the allocations a claimed length leads to), and for small
// objects when a thread's cache of them is refilled, so that for those the figure may be off
// by some kilobytes either way. Allocations by other goroutines count too.
func Allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Slack is what Bounded allows besides perByte for each input byte: more than the small
// objects Allocated may count late, less than an allocation a hostile length would cause.
const Slack = 1 << 20

// Bounded runs fn, the parse of an input of n bytes, and fails t when it allocated more than
// perByte bytes for each input byte plus Slack.
func Bounded(t testing.TB, n, perByte int, fn func()) {
	t.Helper()
	limit := uint64(n)*uint64(perByte) + Slack
	if got := Allocated(fn); got > limit {
		t.Fatalf("parsing %d bytes allocated %d bytes, more than %d per input byte and %d more", n, got, perByte, Slack)
	}
}
