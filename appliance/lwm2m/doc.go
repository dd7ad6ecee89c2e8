// Package lwm2m is pigw's side of OMA LwM2M 1.1's Device Management and Information Reporting
// interfaces: the objects a fleet server (Eclipse Leshan, ThingsBoard, ...) reads, writes,
// executes and observes, and the operations on them.
//
// An object is a list of instances of resources, each with its id, type, operations (R, W, E)
// and the functions that read, write or execute it. Whoever builds an object supplies those
// functions, so this package knows no sensor, pin or updater: the constructors here (Server,
// Device, Sensors, GPIO) take facts and callbacks from the appliance. A Tree holds the objects,
// writes the object list a Register carries (Links) and serves every object, instance and
// resource as a CoAP resource of a sessions-only coap.Server (Tree.NewServer), which the
// registration's session serves on the socket it registered from (coap.Session.Serve): the
// LwM2M server's requests come back over that socket, since a client behind a NAT has no
// other.
//
// What the server's requests do (LwM2M 1.1 Core §6.3, §6.4, §5.1.2):
//
//   - Read is GET. A resource answers text/plain, an opaque resource also opaque (42), and
//     every path TLV (11542), SenML JSON (110) and SenML CBOR (112) as Accept asks; 4.06 for
//     any other Accept. Without Accept a single resource answers text/plain and the rest SenML
//     CBOR: LwM2M 1.1 makes plain text mandatory for a client and tells 1.1 clients not to
//     prefer the legacy TLV (§7.4). A resource that cannot be read now answers 5.03 with why;
//     an instance or object leaves it out.
//   - Discover is GET with Accept: application/link-format: the path, its attributes (on a
//     resource with those it inherits) and what is below it.
//   - Write is PUT (replace) on a resource or an instance, POST (partial update) on an
//     instance, in any of the formats above (text and opaque on a single resource only), with
//     4.15 for another Content-Format and 4.00 for a payload that does not decode to the
//     declared types. Every resource of the payload must be writable (4.05) before any is
//     written.
//   - Execute is POST on an E resource, with the payload as its arguments.
//   - Write-Attributes is PUT with a query and no payload: pmin and pmax (seconds) on any
//     level, gt, lt and st on a numeric resource; a name without a value removes it. Each
//     level keeps its own, and a resource inherits what it does not set from its instance,
//     which inherits from its object.
//   - Observe (GET with Observe: 0) and Cancel (Observe: 1 or an RST) are coap's; this package
//     sets each path's pmin and pmax there and decides, for a resource with gt, lt or st,
//     whether a new value notifies or only updates what a Read and the next pmax see.
//
// Unknown paths answer 4.04, operations a path does not have 4.05 (a Write of a read-only
// resource, an Execute of one that is not E, a Read of an E resource, a Create or Delete).
package lwm2m
