package appliance

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
	"github.com/pigw/pigw/internal/freeport"
)

// trialCard is a card as an Updater sees it, with slot B a file.
type trialCard struct {
	mu                 sync.Mutex
	running, committed string
	slot               string
}

func (c *trialCard) Running() (update.SlotInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return update.SlotInfo{Name: c.running}, nil
}

func (c *trialCard) Other() (update.SlotInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	other := map[string]string{"a": "b", "b": "a"}[c.running]
	return update.SlotInfo{Name: other, Path: c.slot, Size: 1 << 20}, nil
}

func (c *trialCard) Committed() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.committed, nil
}

func (c *trialCard) Commit(slot string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.committed = slot
	return nil
}

func (c *trialCard) SetTryboot(string) error { return nil }

// trialUpdater takes a v2 bundle on a card running v1, applies it, and returns the updater of
// the boot that runs the trial root.
func trialUpdater(t *testing.T, card *trialCard, stateDir string) *update.Updater {
	t.Helper()
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	roots := map[string]string{}
	releases := map[string]bundle.Release{}
	for i, v := range []string{"v1", "v2"} {
		roots[v] = filepath.Join(dir, v)
		releases[v] = bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: v, Seq: uint64(i + 1), Floor: uint64(i + 1), KernelRelease: "k"}
		if err := bundletest.WriteRoot(roots[v], releases[v], key.Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(card.slot, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	root := []byte(strings.Repeat("a root file system ", 1000))
	b, err := bundletest.Bundle(releases["v2"].Manifest(bundletest.Root(root)), root, key)
	if err != nil {
		t.Fatal(err)
	}
	boot := func(run, root string) *update.Updater {
		card.mu.Lock()
		card.running = run
		card.mu.Unlock()
		d, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		u, err := update.New(update.Config{Dir: d, Root: root, Layout: card})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := boot("a", roots["v1"])
	for off := 0; off < len(b); off += 1024 {
		end := min(off+1024, len(b))
		if _, err := u.Take(update.Piece{Offset: int64(off), Data: b[off:end], More: end < len(b), Size1: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Apply(update.Policy{Mode: update.ModeCounter, ConfirmAdmin: true, TrialDeadline: time.Hour, HealthyAfter: time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	if d, err := boot("a", roots["v1"]).AtBoot(); err != nil || d.Kind != update.BootStartTrial {
		t.Fatalf("the committed root's boot: %+v %v", d, err)
	}
	trial := boot("b", roots["v2"])
	if d, err := trial.AtBoot(); err != nil || d.Kind != update.BootTrial {
		t.Fatalf("the trial root's boot: %+v %v", d, err)
	}
	return trial
}

// The trial's actions over CoAP, as an admin sends them: commit while healthy, and rollback,
// which stops the appliance for a reboot to the committed root.
func TestSysUpdateTrialActions(t *testing.T) {
	for _, action := range []string{"commit", "rollback"} {
		t.Run(action, func(t *testing.T) {
			card := &trialCard{running: "a", committed: "a", slot: filepath.Join(t.TempDir(), "slot-b")}
			stateDir := t.TempDir()
			u := trialUpdater(t, card, filepath.Join(stateDir, "update"))
			port, dport := freeport.MustUDP(t), freeport.MustUDP(t)
			cfg, err := config.Parse("pigw.yaml", []byte(fmt.Sprintf("coap:\n  listen: [\"127.0.0.1:%d\"]\n  dtls:\n    listen: [\"127.0.0.1:%d\"]\n    keys: {admin: adminkey, user: userkey}\n    admins: [admin]\nupdate:\n  confirm: admin\nweb: {listen: []}\n", port, dport)))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), cfg, Options{Log: slog.New(slog.DiscardHandler), StateDir: stateDir, Updater: u, Trial: true})
			}()
			c := coap.NewClient(slog.New(slog.DiscardHandler))
			defer c.Close()
			var admin, user *coap.Session
			for range 50 { // the server may not listen yet
				if admin, err = c.NewSession(fmt.Sprintf("127.0.0.1:%d", dport), coap.SessionOptions{Identity: "admin", PSK: []byte("adminkey"), Timeout: time.Second}); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Fatal(err)
			}
			if user, err = c.NewSession(fmt.Sprintf("127.0.0.1:%d", dport), coap.SessionOptions{Identity: "user", PSK: []byte("userkey")}); err != nil {
				t.Fatal(err)
			}
			post := func(s *coap.Session) coap.Response {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				r, err := s.Do(ctx, coap.NewRequest(coap.POST, "sys/update/"+action))
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if r := post(user); r.Code != coap.Forbidden {
				t.Errorf("%s as a user: %v %s", action, r.Code, r.Payload)
			}
			r := post(admin)
			if r.Code != coap.Changed {
				t.Fatalf("%s as admin: %v %s", action, r.Code, r.Payload)
			}
			st := u.Status()
			switch action {
			case "commit":
				if card.committed != "b" || st.Result != update.ResultSuccess || st.Trial != nil {
					t.Errorf("after the commit: committed %s, %+v", card.committed, st)
				}
				if r := post(admin); r.Code != coap.Forbidden || !strings.Contains(string(r.Payload), "no trial is running") {
					t.Errorf("a second commit: %v %s", r.Code, r.Payload)
				}
			case "rollback":
				select {
				case err := <-done:
					if !errors.Is(err, ErrReboot) {
						t.Errorf("Run returned %v, want ErrReboot", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no reboot after the rollback")
				}
				if card.committed != "a" || st.Trial == nil {
					t.Errorf("after the rollback: committed %s, %+v", card.committed, st)
				}
			}
		})
	}
}
