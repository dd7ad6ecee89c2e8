// Package update takes a signed update bundle over the network and writes its root onto the
// inactive root partition (the other slot), so that a device in the field can change what it
// runs without anyone taking its card out.
//
// The rules come from what goes wrong elsewhere (gokrazy issues 75, 130 and 239): nothing is
// written before the manifest's signature and policy check out; the root is written where it
// lands, block by block, and never held in memory; an upload that broke off resumes from the
// last point known to be on the medium; and a root counts as received only after it was read
// back from the medium and its SHA-256 matched the signed manifest. The running root and its
// slot are never touched.
//
// What is known about the slots lives in a state.Dir on /perm (records that survive power
// cuts), except what must survive losing /perm: the floor below which bundles are downgrades
// is also baked into each root's release file.
package update
