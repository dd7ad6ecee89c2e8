package lwm2m

import (
	"log/slog"
	"strings"
	"testing"
)

func TestLinks(t *testing.T) {
	f := newFixture(t)
	tree, err := NewTree(slog.New(slog.DiscardHandler), f.objects()...)
	if err != nil {
		t.Fatal(err)
	}
	want := `</>;rt="oma.lwm2m";ct="110 112 11542",</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,` +
		`</3200/0>,</3201/0>,</3303/0>,</3303/1>,</3304/0>,</3315/0>`
	if got := tree.Links(); got != want {
		t.Errorf("Links:\n got %s\nwant %s", got, want)
	}
}

func TestNewTreeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		objs []*Object
		want string
	}{
		{"security", []*Object{{ID: 0}}, "object 0 (Security)"},
		{"twice", []*Object{{ID: 5}, {ID: 5}}, "given twice"},
		{"instance twice", []*Object{{ID: 5, Instances: []*Instance{{ID: 1}, {ID: 1}}}}, "instance 1"},
		{"no read", []*Object{{ID: 5, Instances: []*Instance{{Resources: []Resource{{ID: 1, Type: 1, Ops: R}}}}}}, "R without its Read"},
		{"exec value", []*Object{{ID: 5, Instances: []*Instance{{Resources: []Resource{{ID: 1, Ops: R | E}}}}}}, "executable resource has no value"},
		{"no type", []*Object{{ID: 5, Instances: []*Instance{{Resources: []Resource{{ID: 1, Ops: W}}}}}}, "needs one"},
	} {
		if _, err := NewTree(nil, tc.objs...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}
