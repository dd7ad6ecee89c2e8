package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// withAdmin is a coap section with one DTLS admin, which confirm: admin needs.
const withAdmin = "coap:\n  dtls: {keys: {alice: alicekey}, admins: [alice]}\n"

func TestUpdateSection(t *testing.T) {
	if got := Default().Update; !reflect.DeepEqual(got, updateDefaults()) {
		t.Errorf("Default().Update = %+v, want %+v", got, updateDefaults())
	}
	with := func(f func(u *Update)) Update {
		u := updateDefaults()
		f(&u)
		return u
	}
	for _, tt := range []struct {
		name, yaml string
		want       Update
	}{
		{"absent", "coap: {}\n", updateDefaults()},
		{"without value", "update:\n", updateDefaults()},
		{"empty mapping", "update: {}\n", updateDefaults()},
		{"keys without values", "update:\n  confirm:\n  trial:\n  trial_deadline:\n  healthy_after:\n", updateDefaults()},
		{"empty and zero", "update: {confirm: \"\", trial: \"\", trial_deadline: 0, healthy_after: 0s}\n", updateDefaults()},
		{"confirm admin", withAdmin + "update: {confirm: admin}\n", with(func(u *Update) { u.Confirm = UpdateConfirmAdmin })},
		{"confirm in any case", withAdmin + "update: {confirm: ADMIN}\n", with(func(u *Update) { u.Confirm = UpdateConfirmAdmin })},
		{"confirm auto without dtls", "update: {confirm: Auto}\n", updateDefaults()},
		{"trial tryboot", "update: {trial: TryBoot}\n", with(func(u *Update) { u.Trial = UpdateTrialTryboot })},
		{"trial counter", "update: {trial: counter}\n", with(func(u *Update) { u.Trial = UpdateTrialCounter })},
		{"trial auto", "update: {trial: AUTO}\n", updateDefaults()},
		{
			"least",
			"update: {trial_deadline: 30s, healthy_after: 5s}\n",
			with(func(u *Update) { u.TrialDeadline, u.HealthyAfter = Duration(30*time.Second), Duration(5*time.Second) }),
		},
		{
			"most",
			"update: {trial_deadline: 24h, healthy_after: 1h}\n",
			with(func(u *Update) { u.TrialDeadline, u.HealthyAfter = Duration(24*time.Hour), Duration(time.Hour) }),
		},
		{
			"healthy just below the deadline",
			"update: {trial_deadline: 2m, healthy_after: 119s}\n",
			with(func(u *Update) { u.TrialDeadline, u.HealthyAfter = Duration(2*time.Minute), Duration(119*time.Second) }),
		},
		{
			"everything set",
			withAdmin + "update:\n  confirm: admin\n  trial: counter\n  trial_deadline: 15m\n  healthy_after: 3m\n",
			Update{Confirm: UpdateConfirmAdmin, Trial: UpdateTrialCounter, TrialDeadline: Duration(15 * time.Minute), HealthyAfter: Duration(3 * time.Minute)},
		},
	} {
		c, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(c.Update, tt.want) {
			t.Errorf("%s: Update = %+v, want %+v", tt.name, c.Update, tt.want)
		}
	}
}

func TestUpdateSectionErrors(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"confirm unknown", "update:\n  confirm: maybe\n",
			`pigw.yaml:2:12: update.confirm: "maybe" is not a confirm mode (auto or admin)`},
		{"confirm admin without dtls", "update:\n  confirm: Admin\n",
			`pigw.yaml:2:12: update.confirm: "Admin" needs coap.dtls with at least one identity in coap.dtls.admins (there is no coap.dtls): otherwise nobody could ever commit a new root`},
		{"confirm admin without admins", "coap:\n  dtls: {keys: {alice: alicekey}}\nupdate:\n  confirm: admin\n",
			`pigw.yaml:4:12: update.confirm: "admin" needs coap.dtls with at least one identity in coap.dtls.admins (coap.dtls has no admins): otherwise nobody could ever commit a new root`},
		{"confirm admin with an empty list", "coap:\n  dtls: {psk: k, admins: []}\nupdate:\n  confirm: admin\n",
			`pigw.yaml:4:12: update.confirm: "admin" needs coap.dtls with at least one identity in coap.dtls.admins (coap.dtls has no admins): otherwise nobody could ever commit a new root`},
		{"confirm not text", "update:\n  confirm: [admin]\n",
			`pigw.yaml:2:12: update.confirm: expected a string, found a list`},
		{"trial unknown", "update:\n  trial: grub\n",
			`pigw.yaml:2:10: update.trial: "grub" is not a trial mode (auto, tryboot or counter)`},
		{"trial_deadline short", "update:\n  trial_deadline: 29s\n",
			`pigw.yaml:2:19: update.trial_deadline: 29s: must be 30s..24h`},
		{"trial_deadline long", "update:\n  trial_deadline: 25h\n",
			`pigw.yaml:2:19: update.trial_deadline: 25h: must be 30s..24h`},
		{"trial_deadline not a duration", "update:\n  trial_deadline: 10\n",
			`pigw.yaml:2:19: update.trial_deadline: 10 is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`},
		{"healthy_after short", "update:\n  healthy_after: 4s\n",
			`pigw.yaml:2:18: update.healthy_after: 4s: must be 5s..1h`},
		{"healthy_after long", "update:\n  trial_deadline: 2h\n  healthy_after: 61m\n",
			`pigw.yaml:3:18: update.healthy_after: 1h1m: must be 5s..1h`},
		{"healthy_after equal to the deadline", "update:\n  trial_deadline: 1m\n  healthy_after: 60s\n",
			`pigw.yaml:3:18: update.healthy_after: 1m: must be below trial_deadline (1m)`},
		{"healthy_after past the default deadline", "update:\n  healthy_after: 11m\n",
			`pigw.yaml:2:18: update.healthy_after: 11m: must be below trial_deadline (10m)`},
		{"healthy_after past a deadline that fails", "update:\n  trial_deadline: soon\n  healthy_after: 20m\n",
			`pigw.yaml:2:19: update.trial_deadline: "soon" is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`},
		{"unknown key", "update:\n  auto_commit: true\n",
			`pigw.yaml:2:3: update.auto_commit: unknown field (known: confirm, trial, trial_deadline, healthy_after)`},
		{"not a mapping", "update: [confirm]\n",
			`pigw.yaml:1:9: update: expected a mapping, found a list`},
		{
			"every rule at once",
			"update:\n  confirm: yes\n  trial: uboot\n  trial_deadline: 1s\n  healthy_after: 1s\n",
			`pigw.yaml:2:12: update.confirm: "yes" is not a confirm mode (auto or admin)
pigw.yaml:3:10: update.trial: "uboot" is not a trial mode (auto, tryboot or counter)
pigw.yaml:4:19: update.trial_deadline: 1s: must be 30s..24h
pigw.yaml:5:18: update.healthy_after: 1s: must be 5s..1h`,
		},
	} {
		_, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: Parse error:\n%v\nwant:\n%s", tt.name, err, tt.want)
		}
	}
}

// TestUpdateValidate: a Config built in Go gets the defaults of the update section it leaves
// zero, and the rules without file, line or column.
func TestUpdateValidate(t *testing.T) {
	c := Default()
	c.Update = Update{}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Update, updateDefaults()) {
		t.Errorf("Validate filled in %+v, want %+v", c.Update, updateDefaults())
	}

	c = Default()
	c.Update = Update{Confirm: "Admin", Trial: "x", TrialDeadline: Duration(-time.Second), HealthyAfter: Duration(time.Minute)}
	want := `update.confirm: "Admin" needs coap.dtls with at least one identity in coap.dtls.admins (there is no coap.dtls): otherwise nobody could ever commit a new root
update.trial: "x" is not a trial mode (auto, tryboot or counter)
update.trial_deadline: -1s: must be 30s..24h`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

// TestDefaultYAMLUpdateExample checks that the commented-out update example in default.yaml is
// valid once its comment marks are taken away, and sets every key.
func TestDefaultYAMLUpdateExample(t *testing.T) {
	i := strings.Index(defaultYAML, "\n# update:")
	if i < 0 {
		t.Fatal("no commented-out update: example in default.yaml")
	}
	block, _, _ := strings.Cut(defaultYAML[i+1:], "\n\n")
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(block, "")
	c, err := Parse("default.yaml example", []byte(example))
	if err != nil {
		t.Fatalf("the update example of default.yaml:\n%s\ndoes not parse: %v", example, err)
	}
	for _, key := range []string{"confirm:", "trial:", "trial_deadline:", "healthy_after:"} {
		if !strings.Contains(example, key) {
			t.Errorf("the update example of default.yaml has no %s\n%s", key, example)
		}
	}
	if c.Update == updateDefaults() {
		t.Errorf("the update example of default.yaml sets only defaults:\n%s", example)
	}
}
