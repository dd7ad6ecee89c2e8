package vmtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/image"
	"github.com/pigw/pigw/internal/lwm2mtest"
	"github.com/pigw/pigw/internal/syncbuf"
)

// Updates over the network on a card that boots like a Pi (StartCard): pigw update pushes a
// bundle that pigw image build signed, the device writes it to its other root slot, reboots
// into a trial of it, and commits it or goes back.

// updateConfig is the card's pigw.yaml: an admin over DTLS, and short trials for tests.
const updateConfig = `coap:
  dtls:
    listen: ["0.0.0.0:5684"]
    keys: {admin: adminkey}
    admins: [admin]
update:
  trial_deadline: 90s
  healthy_after: 5s
`

// releases are images signed with one key: v1 is the card, the others' bundles are what gets
// pushed. Each is built once per test binary, when a test first asks for it.
type releases struct {
	dir, key, module string
	mu               sync.Mutex
	images           map[string]*image.Result // by version
}

var (
	relOnce sync.Once
	rel     *releases
	relErr  error
)

// release is how an image differs from v1: its version and seq, and what its overlay holds.
type release struct {
	version string
	seq     uint64
	overlay map[string][]byte // root/... and boot/... files
}

// signedReleases returns the builder of this test binary's signed images.
func signedReleases(t *testing.T) *releases {
	t.Helper()
	relOnce.Do(func() {
		r := &releases{images: map[string]*image.Result{}}
		if r.module, relErr = moduleRoot(); relErr != nil {
			return
		}
		if r.dir, relErr = os.MkdirTemp("", "pigw-vm-releases"); relErr != nil {
			return
		}
		r.key = filepath.Join(r.dir, "release.key")
		if _, relErr = bundle.GenerateKeyFiles(r.key); relErr != nil {
			return
		}
		relErr = os.WriteFile(filepath.Join(r.dir, "pigw.yaml"), []byte(updateConfig), 0o644)
		rel = r
	})
	if relErr != nil {
		t.Fatal(relErr)
	}
	return rel
}

// build builds the images of rs that are not built yet, in parallel, and returns them all.
func (r *releases) build(t *testing.T, rs ...release) map[string]*image.Result {
	t.Helper()
	start := time.Now()
	out, err := r.ensure(rs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("signed images ready in %v", time.Since(start).Round(100*time.Millisecond))
	return out
}

// ensure is build for any goroutine.
func (r *releases) ensure(rs ...release) (map[string]*image.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, rl := range rs {
		if r.images[rl.version] != nil {
			continue
		}
		wg.Go(func() {
			res, err := r.buildOne(rl)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("image %s: %w", rl.version, err))
				return
			}
			r.images[rl.version] = res
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := map[string]*image.Result{}
	for _, rl := range rs {
		out[rl.version] = r.images[rl.version]
	}
	return out, nil
}

func (r *releases) buildOne(rl release) (*image.Result, error) {
	o := image.Options{Out: filepath.Join(r.dir, rl.version+".img"), Size: 1 << 30, ModuleRoot: r.module,
		Version: rl.version, Seq: rl.seq, SignKey: r.key, Config: filepath.Join(r.dir, "pigw.yaml")}
	if rl.overlay != nil {
		dir := filepath.Join(r.dir, "overlay-"+rl.version)
		for name, b := range rl.overlay {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, b, 0o755); err != nil {
				return nil, err
			}
		}
		o.Overlays = []string{dir}
	}
	return image.Build(context.Background(), o)
}

var (
	v1 = release{version: "v1", seq: 1}
	v2 = release{version: "v2", seq: 2}
	v3 = release{version: "v3", seq: 3}
)

// card copies image v1 for a test.
func (r *releases) card(t *testing.T) string {
	t.Helper()
	r.build(t, v1)
	cp := filepath.Join(t.TempDir(), "card.img")
	if out, err := exec.Command("cp", "--sparse=always", filepath.Join(r.dir, "v1.img"), cp).CombinedOutput(); err != nil {
		t.Fatalf("copy the image: %v %s", err, out)
	}
	return cp
}

// pushRun is one pigw update run.
type pushRun struct {
	code         int
	out          string
	took         time.Duration
	uploadRate   string
	applyToFinal time.Duration
}

// updateRun is the host's pigw update running against a card.
type updateRun struct {
	cmd    *exec.Cmd
	out    syncbuf.Buffer
	start  time.Time
	cancel context.CancelFunc
	done   chan struct{} // closed when it has exited; err is then how
	err    error
}

// startUpdate starts pigw update of bundlePath against the card, as admin, for at most 10
// minutes; args come before the URL.
func startUpdate(t *testing.T, card *Card, bundlePath string, args ...string) *updateRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	full := append([]string{"update", "--identity", "admin", "--psk", "adminkey", "--retry", "3m"}, args...)
	full = append(full, "coaps://"+card.HostAddr(5684), bundlePath)
	u := &updateRun{cmd: exec.CommandContext(ctx, pigwBinary(t), full...), cancel: cancel, done: make(chan struct{}), start: time.Now()}
	u.cmd.Stdout, u.cmd.Stderr = &u.out, &u.out
	if err := u.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		u.err = u.cmd.Wait()
		cancel()
		close(u.done)
	}()
	return u
}

// wait waits for pigw update's end and reads what it said.
func (u *updateRun) wait(t *testing.T) pushRun {
	t.Helper()
	<-u.done
	r := pushRun{out: u.out.String(), took: time.Since(u.start)}
	if ee, ok := u.err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if u.err != nil {
		t.Fatalf("pigw update: %v", u.err)
	}
	r.parse()
	return r
}

// pigwUpdate runs pigw update against the card to its end.
func pigwUpdate(t *testing.T, card *Card, bundlePath string, args ...string) pushRun {
	t.Helper()
	return startUpdate(t, card, bundlePath, args...).wait(t)
}

// parse reads the upload rate and the time from apply to the commit from pigw update's output.
func (r *pushRun) parse() {
	if m := regexp.MustCompile(`uploading .* 100%, ([0-9.]+ MB/s)`).FindStringSubmatch(r.out); m != nil {
		r.uploadRate = m[1]
	}
	if m := regexp.MustCompile(`committed \((\d+):(\d\d) after apply\)`).FindStringSubmatch(r.out); m != nil {
		min, _ := strconv.Atoi(m[1])
		sec, _ := strconv.Atoi(m[2])
		r.applyToFinal = time.Duration(min*60+sec) * time.Second
	}
}

// cmdlineRoot reads root= of cmdline.txt on the card, as the firmware would.
func cmdlineRoot(t *testing.T, img string) string {
	t.Helper()
	out, err := exec.Command("mtype", "-i", img+"@@"+strconv.Itoa(4<<20), "::/cmdline.txt").CombinedOutput()
	if err != nil {
		t.Fatalf("mtype cmdline.txt: %v %s", err, out)
	}
	m := regexp.MustCompile(`root=PARTUUID=\w+-(\d\d)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("cmdline.txt: %s", out)
	}
	return m[1]
}

// version asks the running card for /sys/info's version.
func version(t *testing.T, card *Card) string {
	t.Helper()
	r := until(t, session(t, card.VM(), false), coap.NewRequest(coap.GET, "sys/info"), 120*time.Second)
	m := regexp.MustCompile(`"version":"([^"]+)"`).FindStringSubmatch(string(r.Payload))
	if m == nil {
		t.Fatalf("/sys/info: %s", r.Payload)
	}
	return m[1]
}

// TestUpdateGood: v2 pushed to a card running v1, the power cut in the middle of the upload
// (pigw update resumes it once the card is back), is tried (counter mode: the committed pigw
// starts the new root once), found healthy and committed; the card then boots v2 by itself,
// also after a power cut right after the commit. v3 goes back to slot A through the firmware's
// tryboot (update.trial: tryboot), delivered by an LwM2M server (lwm2m-node-lib) through the
// Firmware Update object, and a downgrade to v2 is refused.
func TestUpdateGood(t *testing.T) {
	r := signedReleases(t)
	imgs := r.build(t, v1, v2, v3)
	img := r.card(t)
	card := StartCard(t, CardOptions{ImageOptions: ImageOptions{Image: img, ForwardUDP: []int{5683, 5684}}})
	if v := version(t, card); v != "v1" {
		t.Fatalf("the card runs %s, want v1", v)
	}
	run := pushCutAndResume(t, card, imgs["v2"].Bundle)
	if run.code != 0 || !strings.Contains(run.out, "runs v2 seq 2 on slot b, committed") || !strings.Contains(run.out, "resuming") {
		t.Fatalf("pigw update v2: exit %d\n%s\n%s", run.code, run.out, card.Console())
	}
	t.Logf("v2 (%d bytes): uploaded at %s over QEMU's user network (DTLS, Block1 1024), committed %s after apply; pigw update took %s with a power cut",
		imgs["v2"].BundleSize, run.uploadRate, run.applyToFinal, run.took.Round(time.Second))
	t.Logf("pigw update said:\n%s", run.out)
	resumed := regexp.MustCompile(`msg="update upload can resume" subsystem=update upload=\w+ version=v2 bytes=(\d+)`).FindStringSubmatch(card.Console())
	if resumed == nil || resumed[1] == "4096" {
		t.Errorf("the card did not resume the upload above the header: %v", resumed)
	}
	boots := card.Boots()
	last := boots[len(boots)-1].VM.Console()
	if len(boots) != 3 || boots[0].Ended != "power cut" || boots[1].Ended != "reboot" ||
		!strings.Contains(last, `msg="update: starting the trial of slot b"`) || !strings.Contains(last, `msg="update committed" subsystem=update slot=b version=v2`) {
		t.Fatalf("boots: %d\n%s", len(boots), card.Console())
	}
	if got := cmdlineRoot(t, img); got != "03" {
		t.Errorf("cmdline.txt root= partition %s after the commit, want 03", got)
	}

	card.Kill() // a power cut right after the commit
	// From here the card is also a client of an LwM2M server on the host (QEMU's gateway
	// 10.0.2.2 is the host's loopback), which delivers v3.
	lw := lwm2mtest.Start(t)
	replaceBootFile(t, img, imgs["v1"], "pigw.yaml", updateConfig+"  trial: tryboot\n"+
		fmt.Sprintf("lwm2m:\n  server: coap://10.0.2.2:%d\n  endpoint: card\n  lifetime: 60s\n", lw.Port()))
	if err := card.PowerOn(); err != nil {
		t.Fatal(err)
	}
	if v := version(t, card); v != "v2" {
		t.Fatalf("after a power cut the card runs %s, want v2\n%s", v, card.Console())
	}
	if c := card.VM().Console(); strings.Contains(c, "trial") {
		t.Errorf("boot after the commit mentions a trial:\n%s", c)
	}

	lwm2mUpdate(t, card, lw, imgs["v3"])
	boots = card.Boots()
	if b := boots[len(boots)-1]; !b.Tryboot || !strings.Contains(b.Cmdline, "-02 ") || boots[len(boots)-2].Ended != "tryboot reboot" {
		t.Errorf("v3 was not tried through tryboot.txt: last boot %+v", b)
	}
	if got := cmdlineRoot(t, img); got != "02" {
		t.Errorf("cmdline.txt root= partition %s after the second commit, want 02", got)
	}
	// A downgrade to v2 is refused before anything is written.
	run = pigwUpdate(t, card, imgs["v2"].Bundle)
	if run.code != 1 || !strings.Contains(run.out, "below this device's floor 3") {
		t.Errorf("pigw update back to v2: exit %d\n%s", run.code, run.out)
	}
}

// pushCutAndResume runs pigw update of b, cuts the card's power once a third of the bundle is
// up, and powers it on again: pigw update must resume and finish by itself.
func pushCutAndResume(t *testing.T, card *Card, b string) pushRun {
	t.Helper()
	u := startUpdate(t, card, b, "--timeout", "5s")
	for !regexp.MustCompile(`uploading .*, [3-9]0%`).MatchString(u.out.String()) {
		select {
		case <-u.done:
			t.Fatalf("pigw update ended before a third of the upload:\n%s", u.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	card.Kill()
	time.Sleep(2 * time.Second)
	if err := card.PowerOn(); err != nil {
		t.Fatal(err)
	}
	return u.wait(t)
}
