package lwm2m

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// attrs are the notification attributes set on one level (LwM2M 1.1 Core §5.1.2): pmin and
// pmax in seconds, gt, lt and st in the resource's unit. A name that is not in the map is not
// set there.
type attrs map[string]float64

// attrNames are the attributes pigw takes, in the order Discover writes them.
var attrNames = []string{"pmin", "pmax", "gt", "lt", "st"}

func (a attrs) has(name string) bool { _, ok := a[name]; return ok }

// periods are pmin and pmax as durations, 0 for unset.
func (a attrs) periods() (pmin, pmax time.Duration) {
	return time.Duration(a["pmin"]) * time.Second, time.Duration(a["pmax"]) * time.Second
}

// link appends ;name=value for each attribute set.
func (a attrs) link(b *strings.Builder) {
	for _, n := range attrNames {
		if v, ok := a[n]; ok {
			fmt.Fprintf(b, ";%s=%s", n, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
}

// effective is what applies at p: p's own attributes over its instance's over its object's.
func (t *Tree) effectiveLocked(p node.Path) attrs {
	eff := attrs{}
	for d := 1; d <= p.Depth(); d++ {
		maps.Copy(eff, t.attrs[p.Prefix(d)])
	}
	return eff
}

// attrChange is one parameter of a Write-Attributes: a value to set, or unset.
type attrChange struct {
	name  string
	value float64
	unset bool
}

// parseAttrs reads a Write-Attributes query for path p, whose resource (nil for an object or
// instance) decides whether gt, lt and st apply. The errors name the parameter and the rule.
func parseAttrs(queries []string, p node.Path, r *Resource) ([]attrChange, error) {
	seen := map[string]bool{}
	var cs []attrChange
	for _, q := range queries {
		name, val, hasVal := strings.Cut(q, "=")
		c := attrChange{name: name, unset: !hasVal}
		switch name {
		case "pmin", "pmax":
			if hasVal {
				n, err := strconv.ParseUint(val, 10, 31)
				if err != nil {
					return nil, fmt.Errorf("attribute %s=%q: want whole seconds, 0 or more", name, val)
				}
				c.value = float64(n)
			}
		case "gt", "lt", "st":
			switch {
			case p.Depth() != 3:
				return nil, fmt.Errorf("attribute %s: applies to a resource, and %s is not one", name, p)
			case r.Multiple || !numeric(r.Type):
				return nil, fmt.Errorf("attribute %s: applies to a single numeric resource, and %s is not one", name, p)
			}
			if hasVal {
				f, err := strconv.ParseFloat(val, 64)
				if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
					return nil, fmt.Errorf("attribute %s=%q: want a finite decimal number", name, val)
				}
				if name == "st" && f < 0 {
					return nil, fmt.Errorf("attribute st=%s: a step is not negative", val)
				}
				c.value = f
			}
		default:
			return nil, fmt.Errorf("unknown attribute %q: pigw takes pmin, pmax, gt, lt and st", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("attribute %s: given twice", name)
		}
		seen[name] = true
		if r != nil && r.Ops == E {
			return nil, fmt.Errorf("attribute %s: %s is executable and has no value to observe", name, p)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// checkAttrs applies the specification's rules to what would apply at one path.
func checkAttrs(p node.Path, a attrs) error {
	if a.has("pmin") && a.has("pmax") && a["pmin"] > a["pmax"] {
		return fmt.Errorf("%s: pmin %g is greater than pmax %g", p, a["pmin"], a["pmax"])
	}
	if a.has("gt") && a.has("lt") {
		if a["lt"] >= a["gt"] {
			return fmt.Errorf("%s: lt %g must be less than gt %g", p, a["lt"], a["gt"])
		}
		if a.has("st") && a["lt"]+2*a["st"] >= a["gt"] {
			return fmt.Errorf("%s: lt %g + 2×st %g must be less than gt %g", p, a["lt"], a["st"], a["gt"])
		}
	}
	return nil
}

// writeAttributes applies a Write-Attributes to path p: all or nothing. It returns the paths
// whose observation periods may have changed: p and everything under it.
func (t *Tree) writeAttributes(p node.Path, queries []string) ([]node.Path, error) {
	cs, err := parseAttrs(queries, p, t.resource(p))
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.attrs[p]
	next := maps.Clone(old)
	if next == nil {
		next = attrs{}
	}
	for _, c := range cs {
		if c.unset {
			delete(next, c.name)
		} else {
			next[c.name] = c.value
		}
	}
	t.attrs[p] = next
	var touched []node.Path
	t.walk(func(q node.Path) {
		if q.Under(p) && err == nil {
			err = checkAttrs(q, t.effectiveLocked(q))
			touched = append(touched, q)
		}
	})
	if err != nil {
		t.attrs[p] = old
		if old == nil {
			delete(t.attrs, p)
		}
		return nil, err
	}
	return touched, nil
}
