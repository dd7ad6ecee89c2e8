// Package coap is pigw's CoAP engine: a server with resources, dynamic resources, discovery,
// observe and block-wise transfer, built on go-coap's message codec.
//
// The object model follows the Pycom network.Coap module that pigw re-creates (Server,
// Resource with value, media type, max-age, ETag, attributes and enabled methods, a handler
// for resources created by PUT), with that module's defects fixed as the design's
// COAP-SEMANTICS describes.
//
// Why its own server loop instead of go-coap's: go-coap's UDP server has no resource tree, no
// /.well-known/core, no observer registry, and its duplicate-detection cache is scanned on
// every packet, so its throughput falls as the cache grows. Here each listening socket is
// read by a few goroutines that decode with go-coap's coder into reused buffers, look the
// request up in a sharded, fixed-size duplicate cache (O(1) per packet), and answer from the
// resource tree without allocating on the GET path.
package coap
