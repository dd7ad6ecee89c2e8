// Package state is pigw's durable key/value directory: the place where
// acknowledged writes (CoAP PUTs, configuration) are kept so that they
// survive a crash or a power cut.
//
// Why it exists: a Raspberry Pi gateway loses power without warning, and
// the obvious os.WriteFile truncates the old file before writing the new
// one, so a cut at the wrong instant leaves an empty or half-written file.
// Here each key is one file, and Put writes a temporary file in the same
// directory, fsyncs it, renames it over the final name and fsyncs the
// directory. Rename within one directory is atomic, so a reader (or the
// next boot) sees either the complete old record or the complete new one;
// the two fsyncs make sure that, once Put has returned nil, the new record
// is on the storage device and not only in the page cache.
//
// Each record carries a small header with the data length and a CRC-32C,
// so a file damaged by something outside the store (bit rot on an SD card,
// a truncated copy, a hand edit) is reported as an error wrapping
// ErrCorrupt and naming the file, rather than returned as data.
//
// File names are the base64url (no padding) encoding of the key plus
// ".rec", so keys may hold any byte, including '/', and ".." cannot escape
// the directory. Temporary files end in ".tmp"; Open removes those left by
// interrupted writes and All ignores them.
//
// A Dir may be used from many goroutines at once. Only one Dir (in one
// process) should use a directory at a time: Open removes temporary files
// that another writer could still be using.
package state
