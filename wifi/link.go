package wifi

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// linkUp brings the WiFi interface up, which scanning needs.
func linkUp(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	return nil
}
