package wpa

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
)

// exampleDaemon starts a fake wpa_supplicant for wlan0 that "connects" when
// told to RECONNECT, and returns its control directory.
func exampleDaemon() (ctrlDir string, stop func()) {
	dir, err := os.MkdirTemp("", "wpa-example")
	if err != nil {
		log.Fatal(err)
	}
	f, err := newFake(dir)
	if err != nil {
		log.Fatal(err)
	}
	handle := exampleHandler()
	f.set(func(f *fakeSupplicant) { f.handle = handle })
	return dir, func() { f.stop(); os.RemoveAll(dir) }
}

func exampleHandler() func(f *fakeSupplicant, cmd string) (string, bool) {
	status := "wpa_state=SCANNING\n"
	return func(f *fakeSupplicant, cmd string) (string, bool) {
		switch {
		case cmd == "STATUS":
			return status, true
		case cmd == "RECONNECT":
			status = "bssid=02:00:00:00:01:00\nfreq=2412\nssid=home\nid=0\nkey_mgmt=WPA2-PSK\nwpa_state=COMPLETED\n"
			go f.push("<3>CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]")
			return "OK\n", true
		case strings.HasPrefix(cmd, "SET_NETWORK"):
			return "OK\n", true
		}
		return "", false
	}
}

func ExampleConn() {
	ctrlDir, stop := exampleDaemon() // normally "/run/wpa_supplicant"
	defer stop()

	ctx := context.Background()
	c, err := Dial(ctx, ctrlDir, "wlan0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	home := Network{SSID: "home", PSK: "correct horse battery"}
	fmt.Println("joining", home) // never shows the key
	if err := c.Configure(ctx, []Network{home}); err != nil {
		log.Fatal(err)
	}
	for ev := range c.Events() {
		if ev.WrongKey() {
			log.Fatal("wrong key for ", home)
		}
		if ev.Name == EventConnected {
			fmt.Println("connected to", ev.Fields["bssid"], "network", ev.Fields["id"])
			break
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.State, st.SSID, st.Freq, "MHz")
	// Output:
	// joining "home" (wpa2, key set)
	// connected to 02:00:00:00:01:00 network 0
	// COMPLETED home 2412 MHz
}
