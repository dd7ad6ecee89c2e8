package vmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
)

// The failures of an update, on one card running v1: bundles refused before anything is
// written, a root that does not survive its read-back, and trials that fail in every way a
// root can (it does not mount, its PID 1 exits, it hangs, it brings up no network, the power
// goes during its trial). Each ends on v1, committed, by itself.

// rebundle writes a bundle of src with its manifest (and root) edited, signed with key.
func rebundle(t *testing.T, src, key string, edit func(m *bundle.Manifest, root []byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	h, err := bundle.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	m := h.Manifest
	root := edit(&m, b[bundle.HeaderSize:])
	if m.Components[0].Size == int64(len(b)-bundle.HeaderSize) { // the size was left alone: describe the root
		m.Components[0] = bundletest.Root(root)
	}
	k, err := bundle.ReadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	edited, err := bundletest.Bundle(m, root, k)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "edited.update")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(edited); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(bundle.HeaderSize + m.PayloadSize()); err != nil { // sparse when the manifest lies
		t.Fatal(err)
	}
	return out
}

// slotDigest hashes the first 64 MiB of root slot B on the card.
func slotDigest(t *testing.T, img string, start int64) string {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, start, 64<<20)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// deviceStatus asks the card for GET /sys/update, as admin, waiting up to 2 minutes for it to
// answer (it may be booting).
func deviceStatus(t *testing.T, card *Card) update.Status {
	t.Helper()
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	defer c.Close()
	opts := coap.SessionOptions{Timeout: 5 * time.Second, AckTimeout: 500 * time.Millisecond, Identity: "admin", PSK: []byte("adminkey")}
	var s *coap.Session
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		var err error
		if s, err = c.NewSession(card.HostAddr(5684), opts); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DTLS session with the card in 2 minutes: %v\n%s", err, card.Console())
		}
	}
	r := until(t, s, coap.NewRequest(coap.GET, "sys/update"), 120*time.Second)
	var st update.Status
	if err := json.Unmarshal(r.Payload, &st); err != nil {
		t.Fatalf("/sys/update: %v %s", r.Code, r.Payload)
	}
	return st
}

// badRoot is an image whose /pigw fails by how (testdata/badroot).
func badRoot(t *testing.T, version string, seq uint64, how string) release {
	t.Helper()
	prog, err := buildGuestProgram("./internal/vmtest/testdata/badroot", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	return release{version: version, seq: seq, overlay: map[string][]byte{"root/pigw": prog, "root/etc/badroot": []byte(how + "\n")}}
}

func TestUpdateTrialFailures(t *testing.T) {
	r := signedReleases(t)
	exitRoot, hangRoot := badRoot(t, "v4-exits", 4, "exit"), badRoot(t, "v5-hangs", 5, "hang")
	noNet := release{version: "v6-nonet", seq: 6, overlay: map[string][]byte{"root/etc/pigw.yaml": []byte("coap:\n  service_discovery: true\n")}}
	imgs := r.build(t, v1, v2, v3, exitRoot, hangRoot, noNet)
	img := r.card(t)
	slotB := imgs["v1"].Partitions[2].Start
	card := StartCard(t, CardOptions{ImageOptions: ImageOptions{Image: img, ForwardUDP: []int{5683, 5684}, QEMUArgs: []string{"-device", "i6300esb"}}})
	if v := version(t, card); v != "v1" {
		t.Fatalf("the card runs %s, want v1", v)
	}
	v2b := imgs["v2"].Bundle

	// Refused from the manifest alone: nothing reaches the slot.
	before := slotDigest(t, img, slotB)
	for _, tc := range []struct {
		name, bundle, want string
	}{
		{"bad signature", flipByte(t, v2b, signatureOffset(t, v2b)+10), "does not verify"},
		{"wrong board", rebundle(t, v2b, r.key, func(m *bundle.Manifest, root []byte) []byte { m.BoardFamily = "rpi-armv6"; return root }), `board family "rpi-armv6"`},
		{"lower sequence number", rebundle(t, v2b, r.key, func(m *bundle.Manifest, root []byte) []byte { m.Seq, m.Floor = 0, 0; return root }), "below this device's floor 1"},
		{"oversized", rebundle(t, v2b, r.key, func(m *bundle.Manifest, root []byte) []byte { m.Components[0].Size = 300 << 20; return root }), "4.13"},
	} {
		run := pigwUpdate(t, card, tc.bundle, "--download-only")
		if run.code != 1 || !strings.Contains(run.out, tc.want) {
			t.Errorf("%s: exit %d, want 1 with %q\n%s", tc.name, run.code, tc.want, run.out)
		}
	}
	if after := slotDigest(t, img, slotB); after != before {
		t.Error("a refused bundle wrote to slot B")
	}

	// One byte changed in transit (here: in the file) is found by the read-back.
	run := pigwUpdate(t, card, flipByte(t, v2b, bundle.HeaderSize+1<<20+12345))
	if run.code != 1 || !strings.Contains(run.out, "4.00") || !strings.Contains(run.out, "read back has SHA-256") {
		t.Errorf("flipped byte: exit %d\n%s", run.code, run.out)
	}
	if st := deviceStatus(t, card); st.Other.Content != "invalid" || st.Result != update.ResultIntegrity || st.Trial != nil {
		t.Errorf("after the flipped byte: %+v", st)
	}

	// Trials that fail, each back on v1 by itself with the device's reason.
	truncated := rebundle(t, imgs["v3"].Bundle, r.key, func(m *bundle.Manifest, root []byte) []byte {
		m.Version, m.Seq = "v7-truncated", 7
		return root[:len(root)/2]
	})
	for _, tc := range []struct {
		name, bundle string
		reason       *regexp.Regexp
	}{
		{"truncated root", truncated, regexp.MustCompile(`could not be started|did not come up`)},
		{"PID 1 exits", imgs["v4-exits"].Bundle, regexp.MustCompile(`did not come up: a kernel panic`)},
		{"PID 1 hangs", imgs["v5-hangs"].Bundle, regexp.MustCompile(`did not come up`)},
	} {
		boots := len(card.Boots())
		start := time.Now()
		run := pigwUpdate(t, card, tc.bundle)
		if run.code != 1 || !strings.Contains(run.out, "went back to its committed root (result 8)") || !tc.reason.MatchString(run.out) {
			t.Fatalf("%s: exit %d\n%s\n%s", tc.name, run.code, run.out, card.Console())
		}
		t.Logf("%s: back on v1 after %d boots, %s after pigw update started", tc.name, len(card.Boots())-boots, time.Since(start).Round(time.Second))
		if v := version(t, card); v != "v1" {
			t.Fatalf("%s: the card runs %s", tc.name, v)
		}
		if st := deviceStatus(t, card); st.Result != update.ResultFailed || st.Committed.Slot != "a" || st.Running.Slot != "a" {
			t.Errorf("%s: status %+v", tc.name, st)
		}
	}
	hung := card.Boots()
	if c := hung[len(hung)-2].VM.Console(); !strings.Contains(c, "badroot: hanging") || !strings.Contains(c, "hardware watchdog armed for the trial root") {
		t.Errorf("the hang's boot:\n%s", c)
	}
	// A bundle that failed its trial is refused from then on.
	if run := pigwUpdate(t, card, imgs["v4-exits"].Bundle, "--download-only"); run.code != 1 || !strings.Contains(run.out, "failed its trial on this device before") {
		t.Errorf("a failed bundle again: exit %d\n%s", run.code, run.out)
	}

	// The power goes during a trial: the next boot is v1's, and the trial failed.
	if run := pigwUpdate(t, card, v2b, "--download-only"); run.code != 0 {
		t.Fatalf("v2 download: exit %d\n%s", run.code, run.out)
	}
	boots := len(card.Boots())
	if r := until(t, session(t, card.VM(), true), coap.NewRequest(coap.POST, "sys/update/apply"), 30*time.Second); r.Code != coap.Changed {
		t.Fatalf("apply: %v %s", r.Code, r.Payload)
	}
	trial, err := card.WaitBoot(boots+1, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, trial.VM, `msg="update: trial of slot b \(counter mode\)"`, 60*time.Second)
	card.Kill()
	if err := card.PowerOn(); err != nil {
		t.Fatal(err)
	}
	if v := version(t, card); v != "v1" {
		t.Fatalf("after a power cut during the trial the card runs %s", v)
	}
	if st := deviceStatus(t, card); st.Result != update.ResultFailed || !strings.Contains(st.Reason, "stopped before it was healthy") {
		t.Errorf("after a power cut during the trial: %+v", st)
	}

	// With confirm: admin, a root that brings up no network cannot be confirmed: back on v1
	// at the deadline.
	card.Kill()
	replaceBootFile(t, img, imgs["v1"], "pigw.yaml", strings.Replace(updateConfig, "trial_deadline: 90s", "trial_deadline: 30s\n  confirm: admin", 1))
	if err := card.PowerOn(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run = pigwUpdate(t, card, imgs["v6-nonet"].Bundle)
	if run.code != 1 || !strings.Contains(run.out, "the trial deadline of 30s passed, waiting for link eth0 has no address") {
		t.Fatalf("no network: exit %d\n%s\n%s", run.code, run.out, card.Console())
	}
	t.Logf("no network: back on v1 %s after pigw update started", time.Since(start).Round(time.Second))

	// A healthy root under confirm: admin waits for the admin, which pigw update is.
	run = pigwUpdate(t, card, imgs["v3"].Bundle)
	if run.code != 0 || !strings.Contains(run.out, "waiting for an admin's POST /sys/update/commit") || !strings.Contains(run.out, "runs v3 seq 3 on slot b, committed") {
		t.Fatalf("confirm: admin: exit %d\n%s\n%s", run.code, run.out, card.Console())
	}
}

// signatureOffset is where the bundle's signature starts.
func signatureOffset(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := bundle.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h.SignatureOffset()
}

// flipByte writes a copy of src with the byte at off flipped.
func flipByte(t *testing.T, src string, off int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x40
	out := filepath.Join(t.TempDir(), "flipped.update")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
