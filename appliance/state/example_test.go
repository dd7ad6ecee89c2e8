package state_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/pigw/pigw/appliance/state"
)

func ExampleDir() {
	tmp, err := os.MkdirTemp("", "state-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	d, err := state.Open(filepath.Join(tmp, "perm", "resources"))
	if err != nil {
		log.Fatal(err)
	}
	// Once Put returns nil, the value survives a power cut.
	if err := d.Put("sensors/temp", []byte("21.5")); err != nil {
		log.Fatal(err)
	}
	if err := d.Put("sensors/hum", []byte("40")); err != nil {
		log.Fatal(err)
	}
	v, err := d.Get("sensors/temp")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sensors/temp: %s\n", v)

	if err := d.Delete("sensors/hum"); err != nil {
		log.Fatal(err)
	}
	_, err = d.Get("sensors/hum")
	fmt.Println("deleted:", errors.Is(err, fs.ErrNotExist))

	// At start-up, load everything; a damaged file is logged, not fatal.
	all, err := d.All()
	if err != nil {
		log.Print(err)
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		fmt.Printf("%s = %s\n", k, all[k])
	}
	// Output:
	// sensors/temp: 21.5
	// deleted: true
	// sensors/temp = 21.5
}
