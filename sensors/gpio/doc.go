// Package gpio turns the Pi's GPIO pins into the inputs and outputs the appliance serves as
// CoAP resources: a door contact or button that a client observes, a relay that a client PUTs.
//
// Why a package of its own: raw pins bounce, are often wired active low and are read by
// periph.io drivers that block in WaitForEdge. Input hides all three behind one callback that
// fires for the first level and each debounced change, with the goroutine's lifetime bound to
// a context.Context. Output remembers the level it was asked for, so a resource can report and
// toggle it without reading back an inverted pin. Everything is written on periph.io's
// conn/v3/gpio interfaces, so tests run on gpiotest fakes and the real pins come from Open,
// which goes through periph host (/dev/gpiochipN on Linux).
package gpio
