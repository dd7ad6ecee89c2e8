package vmtest

import (
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/update"
)

// updateCutRounds is how many power cuts TestUpdatePowerCuts makes: $PIGW_UPDATE_POWERCUT_ROUNDS,
// default 3 (make test-update-powercut runs 100).
func updateCutRounds(t *testing.T) int {
	v := os.Getenv("PIGW_UPDATE_POWERCUT_ROUNDS")
	if v == "" {
		return 3
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		t.Fatalf("PIGW_UPDATE_POWERCUT_ROUNDS=%q: want a number of cuts from 1 to 200", v)
	}
	return n
}

// TestUpdatePowerCuts cuts the power at a random moment of an update (upload, apply, reboot,
// trial, commit), again and again on one card, and checks after each cut that the card boots,
// runs its committed root once the dust settled, that cmdline.txt names that root, and that
// no root ran uncommitted except in the one trial boot an apply armed. Each round pushes the
// next release (the last one may have been committed, or failed its trial and be refused from
// then on); a round whose bundle was only partly uploaded resumes it.
func TestUpdatePowerCuts(t *testing.T) {
	rounds := updateCutRounds(t)
	r := signedReleases(t)
	img := r.card(t)
	card := StartCard(t, CardOptions{ImageOptions: ImageOptions{Image: img, ForwardUDP: []int{5683, 5684}}, MaxBoots: 10 * rounds})
	committed := "v1"
	if v := version(t, card); v != committed {
		t.Fatalf("the card runs %s", v)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seq := uint64(100)
	next := r.build(t, release{version: "pc-" + strconv.FormatUint(seq, 10), seq: seq})["pc-100"]
	outcomes := map[string]int{}
	for round := 1; round <= rounds; round++ {
		// Build the release after this one while this round runs.
		following := make(chan error, 1)
		nextSeq := seq + 1
		go func() {
			_, err := r.ensure(release{version: "pc-" + strconv.FormatUint(nextSeq, 10), seq: nextSeq})
			following <- err
		}()
		target := next.Release.Version
		cut := time.Duration(rng.Int64N(int64(40 * time.Second)))
		u := startUpdate(t, card, next.Bundle, "--retry", "10m")
		finished := false
		select {
		case <-time.After(cut):
		case <-u.done:
			finished = true
		}
		card.Kill()
		u.cancel()
		<-u.done
		pushErr := u.err
		if err := card.PowerOn(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		st := settled(t, card, round)
		cmdline := map[string]string{"02": "a", "03": "b"}[cmdlineRoot(t, img)]
		outcome := "cut before any change"
		switch {
		case finished && pushErr == nil:
			outcome = "committed before the cut"
		case st.Running.Version == target:
			outcome = "committed"
		case st.Result == update.ResultFailed:
			outcome = "trial failed (the cut was in it)"
		case st.UploadID != "":
			outcome = "cut during the upload"
		case st.Other.Content == "verified":
			outcome = "cut after the download"
		}
		outcomes[outcome]++
		t.Logf("round %d: cut at %s: %s; runs %s on slot %s (cmdline.txt: slot %s); result %d %q; pigw update: %s", round, cut.Round(100*time.Millisecond),
			outcome, st.Running.Version, st.Running.Slot, cmdline, st.Result, st.Reason, lastLine(u.out.String()))
		if st.Running.Slot != st.Committed.Slot || cmdline != st.Running.Slot {
			t.Fatalf("round %d: runs slot %s, the device says %s is committed, cmdline.txt says %s\n%s", round, st.Running.Slot, st.Committed.Slot, cmdline, u.out.String())
		}
		if st.Running.Version != committed && st.Running.Version != target {
			t.Fatalf("round %d: runs %s, neither %s nor %s", round, st.Running.Version, committed, target)
		}
		committed = st.Running.Version
		if err := <-following; err != nil {
			t.Fatal(err)
		}
		if st.Running.Version == target || st.Result == update.ResultFailed {
			seq = nextSeq
			next = r.build(t, release{version: "pc-" + strconv.FormatUint(seq, 10), seq: seq})["pc-"+strconv.FormatUint(seq, 10)]
		}
	}
	checkBoots(t, card)
	t.Logf("%d power cuts during updates: %v; %d boots, every one from the committed root or an armed trial", rounds, outcomes, len(card.Boots()))
}

// settled waits until the card answers with no trial in progress, and returns its status.
func settled(t *testing.T, card *Card, round int) update.Status {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st := deviceStatus(t, card)
		if st.Trial == nil {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("round %d: a trial still runs after 3 minutes: %+v\n%s", round, st.Trial, card.Console())
		}
		time.Sleep(2 * time.Second)
	}
}

// checkBoots checks every boot: the kernel was given the root cmdline.txt named (the harness
// reads it as the firmware does), and a boot started at most one other root, as a trial.
func checkBoots(t *testing.T, card *Card) {
	t.Helper()
	armed, started := 0, 0
	for _, b := range card.Boots() {
		c := b.VM.Console()
		armed += strings.Count(c, `msg="update trial armed"`)
		n := strings.Count(c, `msg="update: starting the trial of slot`)
		started += n
		if n > 1 {
			t.Errorf("boot %d started %d trial roots", b.N, n)
		}
		if !regexp.MustCompile(`root=PARTUUID=\w+-0[23] `).MatchString(b.Cmdline) {
			t.Errorf("boot %d: command line %q", b.N, b.Cmdline)
		}
	}
	t.Logf("%d applies logged, %d trial roots started", armed, started)
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
