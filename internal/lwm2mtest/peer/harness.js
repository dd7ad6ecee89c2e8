#!/usr/bin/env node
// The LwM2M server pigw's tests register with: lwm2m-node-lib 1.4.0 (npm, AGPL-3.0; a test
// tool run as its own process, never part of pigw's binary or image) on a loopback UDP port,
// driven over stdin and stdout by the Go package github.com/pigw/pigw/internal/lwm2mtest.
//
//   NODE_PATH=<dir>/node_modules node harness.js --port N     (0: the kernel picks one)
//
// stdout: one JSON object per line. Events have "event" and "t" (ms since the epoch, when the
// harness handled the datagram):
//   ready       port
//   register    id, location, ep, lt, lwm2m, b, query, payload, links, format, con, from
//   update      id, ep, lt, b, query, payload, format, con, from
//   deregister  id, ep, from                   (DELETE /rd/<id>)
//   expire      id, ep                         (the lifetime ran out without an Update)
//   notify      ep, path, observe, code, format, payload, con, from
//   progress    ep, path, blocks                 (every 512 blocks of a write-blocks)
//   error       error                          (a bad command line, an exception)
// payload is base64, format the Content-Format number or -1, observe the Observe number or -1;
// query, lt, b and lwm2m are what the client sent, unchecked: lwm2m-node-lib checks none of
// them, so the tests must.
//
// stdin: one command per line, {"id": N, "op": ..., "ep": endpoint, "path": "/O/I/R", ...}; the
// reply echoes the id: {"id": N, "ok": true, "code": "2.05", "format": 0, "payload": base64,
// "observe": -1} with the client's answer, whatever its code, or {"id": N, "ok": false,
// "error": ...} when there is no answer (no such endpoint, a bad command, no reply in time).
//   read              path, accept (text, tlv, senml-json, senml-cbor, link, opaque; "" = none)
//   write             path, format, payload (base64)
//   write-blocks      path, format, file, block  (Block1; the reply adds "blocks", how many went)
//   execute           path, args (optional string)
//   discover          path
//   write-attributes  path, attributes {pmin, pmax, gt, lt, st}
//   observe           path, accept                  (then "notify" events until cancel)
//   cancel            path
//   list              (no ep)                       value: the registrations
// EOF on stdin stops the server and the process.
//
// lwm2m-node-lib is the server: registration, update, de-registration, lifetime expiry and the
// registry are its own, and so are execute, discover and write-attributes. Read, write, observe
// and cancel are sent by this file, because the library cannot do them as the tests need (see
// sendOwn). Its bugs that touch the tests are worked around here, each where it bites.
'use strict';

const crypto = require('crypto');
const dgram = require('dgram');
const path = require('path');
const readline = require('readline');

// The node-coap and coap-packet that lwm2m-node-lib itself loads: the patches below must reach
// its copies.
const libDir = path.dirname(require.resolve('lwm2m-node-lib/package.json'));
const coapDir = path.dirname(require.resolve('coap/package.json', { paths: [libDir] }));
const coap = require(coapDir);
const CoapServer = require(path.join(coapDir, 'lib', 'server'));
const packet = require(require.resolve('coap-packet', { paths: [coapDir] }));
const lwm2m = require('lwm2m-node-lib').server;

const hostArg = process.argv.indexOf('--host');
const host = hostArg > 0 ? process.argv[hostArg + 1] : '127.0.0.1';
const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : NaN;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: harness.js --port N [--host ADDR] (port 0..65535, 0 lets the kernel pick; host 127.0.0.1 by default)\n');
  process.exit(2);
}

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const now = () => Date.now();

// Formats by the names the commands use; the numbers are RFC 7252's and LwM2M 1.1's registry.
const formats = {
  text: 0, link: 40, opaque: 42, 'senml-json': 110, 'senml-cbor': 112, tlv: 11542
};

// Nothing leaves loopback, or the address --host names (in a test's own namespace).
// lwm2m-node-lib listens on every address: bind its server to that one address. Its requests go out through node-coap agents, whose sockets would bind 0.0.0.0:
// bind them to 127.0.0.1 too.
const listen = CoapServer.prototype.listen;
CoapServer.prototype.listen = function (p, address, done) {
  return listen.call(this, p, host, typeof address === 'function' ? address : done);
};
const agentInit = coap.Agent.prototype._init;
coap.Agent.prototype._init = function (socket) {
  if (!this._sock && !socket) {
    socket = dgram.createSocket(this._opts.type);
    socket.bind(0, host);
  }
  return agentInit.call(this, socket);
};

// Message IDs and tokens, shared by every request the server socket sends. lwm2m-node-lib makes
// a new agent per request and each agent starts at a random message ID, so two requests could
// carry the same ID within EXCHANGE_LIFETIME, and a client that deduplicates (RFC 7252 §4.5)
// would answer the second with the first's cached answer. Random starts, so that a harness
// restarted on the same port does not repeat its predecessor's IDs either.
let lastMid = crypto.randomInt(65536);
let lastToken = crypto.randomBytes(4).readUInt32BE(0);
const nextMid = () => (lastMid = (lastMid + 1) & 0xffff);
const nextToken = () => {
  lastToken = (lastToken + 1) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(lastToken, 0);
  return b;
};
coap.Agent.prototype._nextMessageId = nextMid;
coap.Agent.prototype._nextToken = nextToken;

const config = {
  port: port,
  lifetimeCheckInterval: 1000,
  udpWindow: 100,
  defaultType: 'Device',
  logLevel: 'FATAL',
  ipProtocol: 'udp4',
  serverProtocol: 'udp4',
  // Its defaults are the LwM2M 1.0 drafts' numbers (1541..1544); the registered ones instead.
  formats: [
    { name: 'text/plain', value: 0 },
    { name: 'application/link-format', value: 40 },
    { name: 'application/octet-stream', value: 42 },
    { name: 'application/senml+json', value: 110 },
    { name: 'application/senml+cbor', value: 112 },
    { name: 'application/vnd.oma.lwm2m+tlv', value: 11542 },
    { name: 'application/vnd.oma.lwm2m+json', value: 11543 }
  ],
  writeFormat: 'text/plain',
  defaultAcceptFormat: 'text/plain'
};

let info = null; // lwm2m-node-lib's server information once started
const pending = new Map(); // token hex -> own request waiting for its answer
const observations = new Map(); // token hex -> {ep, path, from, lastMid}

// optionUint is the number in option name of packet p, -1 without one. node-coap turns the
// options of the requests its server takes into numbers and format names in place.
function optionUint(p, name) {
  const o = p.options.find((x) => x.name === name);
  if (!o) return -1;
  if (typeof o.value === 'number') return o.value;
  if (typeof o.value === 'string') {
    const f = config.formats.find((x) => x.name === o.value);
    return f ? f.value : Number(o.value);
  }
  return o.value.length === 0 ? 0 : o.value.readUIntBE(0, o.value.length);
}

function uintBytes(n) {
  const b = [];
  for (; n > 0; n = Math.floor(n / 256)) b.unshift(n % 256);
  return Buffer.from(b);
}

function answer(p) {
  return {
    code: p.code,
    format: optionUint(p, 'Content-Format'),
    payload: p.payload.toString('base64'),
    observe: optionUint(p, 'Observe')
  };
}

function requestFields(req) {
  const p = req._packet;
  const query = p.options.filter((o) => o.name === 'Uri-Query').map((o) => o.value.toString());
  return {
    query,
    payload: req.payload.toString('base64'),
    format: optionUint(p, 'Content-Format'),
    con: p.confirmable,
    from: req.rsinfo.address + ':' + req.rsinfo.port
  };
}

function splitPath(s) {
  if (typeof s !== 'string' || !/^\/\d+(\/\d+){0,3}$/.test(s)) {
    throw new Error('path ' + JSON.stringify(s) + ': want /Object[/Instance[/Resource[/Index]]], numbers');
  }
  const parts = s.split('/').slice(1);
  return { o: parts[0], i: parts[1], r: parts[2], parts };
}

function formatNumber(name, what) {
  if (name === undefined || name === '') return -1;
  if (!(name in formats)) {
    throw new Error(what + ' ' + JSON.stringify(name) + ': want one of ' + Object.keys(formats).join(', '));
  }
  return formats[name];
}

function send(buf, dev) {
  info.server._sock.send(buf, 0, buf.length, dev.port, dev.address);
}

function sendEmpty(kind, mid, rinfo) {
  const buf = packet.generate({ ack: kind === 'ack', reset: kind === 'rst', confirmable: false, messageId: mid, code: '0.00' });
  info.server._sock.send(buf, 0, buf.length, rinfo.port, rinfo.address);
}

// sendOwn sends one confirmable request from the server's socket, as lwm2m-node-lib sends its
// own (the client sees it come from the port it registered with), and calls done with the
// client's answer. The harness sends read, write, observe and cancel itself because the
// library cannot do them as the tests need: its read, write and observe take the Accept and
// Content-Format from its global configuration and only address /O/I/R; its answers lose the
// code on success, the Content-Format and the bytes (payloads become UTF-8 strings, which
// mangles TLV and CBOR); its observe takes an error answer for the first value, and node-coap's
// observe stream drops an answer whose Observe number is 0 (its sequence check is
// "greater than the last, starting at 0"), so the observe command would wait for the first
// notification and lose it.
function sendOwn(dev, req, done) {
  const token = req.token || nextToken();
  const key = token.toString('hex');
  const mid = nextMid();
  const msg = packet.generate({
    confirmable: true, messageId: mid, token, code: req.code, options: req.options,
    payload: req.payload || Buffer.alloc(0)
  });
  const p = {
    mid, cancel: !!req.cancel, tries: 0, timer: null,
    finish(err, res) {
      clearTimeout(p.timer);
      pending.delete(key);
      done(err, res, key);
    }
  };
  // RFC 7252 §4.8: ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4.
  let wait = 2000 * (1 + Math.random() * 0.5);
  const transmit = () => {
    if (p.tries > 4) return p.finish(new Error('no answer from ' + dev.address + ':' + dev.port + ' after 5 transmissions'));
    p.tries++;
    send(msg, dev);
    p.timer = setTimeout(transmit, wait);
    wait *= 2;
  };
  p.acked = () => { // an empty ACK: a separate response follows (RFC 7252 §5.2.2)
    clearTimeout(p.timer);
    p.timer = setTimeout(() => p.finish(new Error('no separate response within 93 s')), 93000);
  };
  pending.set(key, p);
  transmit();
}

// onDatagram sees every datagram at the server's socket before node-coap and lwm2m-node-lib
// do (they ignore the answers to the harness's own requests: node-coap's server drops responses
// it did not proxy).
function onDatagram(msg, rinfo) {
  let p;
  try { p = packet.parse(msg); } catch (e) { return; }
  if (p.code === '0.00') {
    if (!p.ack && !p.reset) return;
    for (const q of pending.values()) {
      if (q.mid !== p.messageId) continue;
      if (p.reset) q.finish(new Error('the client answered with RST'));
      else q.acked();
    }
    return;
  }
  if (p.code[0] === '0') return; // a request: the library's business
  const key = p.token.toString('hex');
  const own = pending.get(key);
  const obs = observations.get(key);
  // A proxied request of the library (execute, discover, write-attributes) waits for this token.
  const proxied = info.server._proxiedRequests[key];
  const notification = optionUint(p, 'Observe') >= 0;
  if (p.confirmable) {
    // Bug worked around: lwm2m-node-lib sends its requests through node-coap's proxy, which
    // relays the answer to the library's agent but never relays the agent's empty ACK back
    // (the ACK has no token to route by). A confirmable notification or separate response
    // would be retransmitted and the client would give up on the observer. The harness ACKs
    // every confirmable answer it or the library waits for, and resets any other (RFC 7641
    // §3.6: how a client learns that nobody observes any more).
    sendEmpty(own || obs || proxied ? 'ack' : 'rst', p.messageId, rinfo);
  } else if (!p.ack && !own && !obs && !proxied) {
    sendEmpty('rst', p.messageId, rinfo);
  }
  if (own && !(own.cancel && notification)) {
    own.finish(null, p);
  } else if (obs && notification && obs.lastMid !== p.messageId) {
    obs.lastMid = p.messageId;
    out(Object.assign({ event: 'notify', t: now(), ep: obs.ep, path: obs.path }, answer(p),
      { con: p.confirmable, from: rinfo.address + ':' + rinfo.port }));
  }
}

function uriPath(s) {
  return splitPath(s).parts.map((x) => ({ name: 'Uri-Path', value: Buffer.from(x) }));
}

function read(dev, c, done) {
  const options = uriPath(c.path);
  const accept = formatNumber(c.accept, 'accept');
  if (accept >= 0) options.push({ name: 'Accept', value: uintBytes(accept) });
  sendOwn(dev, { code: '0.01', options }, (err, p) => done(err, p && answer(p)));
}

function write(dev, c, done) {
  const options = uriPath(c.path);
  const format = formatNumber(c.format, 'format');
  if (format >= 0) options.push({ name: 'Content-Format', value: uintBytes(format) });
  const payload = Buffer.from(c.payload || '', 'base64');
  sendOwn(dev, { code: '0.03', options, payload }, (err, p) => done(err, p && answer(p)));
}

// writeBlocks sends the file c.file as PUT path, block-wise (RFC 7959 Block1, c.block bytes
// a block, Size1 on the first), one block after the other's 2.31 Continue: how a server such
// as Leshan pushes a firmware package. The reply is the last answer, with the blocks sent.
function writeBlocks(dev, c, done) {
  const size = Number(c.block);
  const szx = Math.log2(size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new Error('block ' + c.block + ': want 16, 32, ... 1024');
  const body = require('fs').readFileSync(c.file);
  const format = formatNumber(c.format, 'format');
  const next = (num) => {
    const chunk = body.subarray(num * size, (num + 1) * size);
    const more = (num + 1) * size < body.length;
    const options = uriPath(c.path);
    if (format >= 0) options.push({ name: 'Content-Format', value: uintBytes(format) });
    options.push({ name: 'Block1', value: uintBytes(num * 16 + (more ? 8 : 0) + szx) });
    if (num === 0) options.push({ name: 'Size1', value: uintBytes(body.length) });
    sendOwn(dev, { code: '0.03', options, payload: chunk }, (err, p) => {
      if (err) return done(new Error('block ' + num + ': ' + err.message));
      if (more && p.code === '2.31') {
        if ((num + 1) % 512 === 0) out({ event: 'progress', t: now(), ep: c.ep, path: c.path, blocks: num + 1 });
        return next(num + 1);
      }
      done(null, Object.assign(answer(p), { blocks: num + 1 }));
    });
  };
  next(0);
}

function observe(dev, c, done) {
  const options = [{ name: 'Observe', value: Buffer.alloc(0) }].concat(uriPath(c.path));
  const accept = formatNumber(c.accept, 'accept');
  if (accept >= 0) options.push({ name: 'Accept', value: uintBytes(accept) });
  sendOwn(dev, { code: '0.01', options }, (err, p, key) => {
    if (err) return done(err);
    const a = answer(p);
    // Only a success with an Observe option starts an observation (RFC 7641 §4.1).
    if (a.observe >= 0 && p.code[0] === '2') {
      observations.set(key, { ep: c.ep, path: c.path, lastMid: p.messageId });
    }
    done(null, a);
  });
}

// cancel ends an observation as RFC 7641 §3.6 says: a GET with Observe 1 and the
// observation's token. Bug worked around: lwm2m-node-lib's cancelObserver only closes its own
// stream and sends nothing, so the client would go on notifying.
function cancel(dev, c, done) {
  const key = [...observations.keys()].find((k) => {
    const o = observations.get(k);
    return o.ep === c.ep && o.path === c.path;
  });
  if (key === undefined) return done(new Error('no observation of ' + c.path + ' at ' + c.ep));
  observations.delete(key);
  const options = [{ name: 'Observe', value: Buffer.from([1]) }].concat(uriPath(c.path));
  sendOwn(dev, { code: '0.01', options, token: Buffer.from(key, 'hex'), cancel: true },
    (err, p) => done(err, p && answer(p)));
}

// The library's own operations. It reports the client's error codes as errors with a code; an
// answer it accepts comes back as a string, with its success code and no Content-Format.
function libraryDone(success, done) {
  return (err, value) => {
    if (err && ['CLIENT_ERROR', 'RESOURCE_NOT_FOUND', 'OBJECT_NOT_FOUND'].includes(err.name)) {
      return done(null, { code: err.code, format: -1, payload: '', observe: -1 });
    }
    if (err) return done(new Error(err.name + ': ' + err.message));
    const payload = Buffer.from(typeof value === 'string' ? value : '', 'utf8').toString('base64');
    done(null, { code: success, format: -1, payload, observe: -1 });
  };
}

function execute(dev, c, done) {
  const p = splitPath(c.path);
  if (p.parts.length !== 3) throw new Error('execute ' + c.path + ': want /O/I/R');
  lwm2m.execute(dev.id, p.o, p.i, p.r, c.args === undefined ? null : String(c.args), libraryDone('2.04', done));
}

function discover(dev, c, done) {
  const p = splitPath(c.path);
  const cb = libraryDone('2.05', done);
  if (p.parts.length > 3) throw new Error('discover ' + c.path + ': want /O, /O/I or /O/I/R');
  if (p.r !== undefined) return lwm2m.discover(dev.id, p.o, p.i, p.r, cb);
  if (p.i !== undefined) return lwm2m.discover(dev.id, p.o, p.i, cb);
  return lwm2m.discover(dev.id, p.o, cb);
}

function writeAttributes(dev, c, done) {
  const p = splitPath(c.path);
  if (p.parts.length > 3) throw new Error('write-attributes ' + c.path + ': want /O, /O/I or /O/I/R');
  lwm2m.writeAttributes(dev.id, p.o, p.i, p.r, c.attributes || {}, libraryDone('2.04', done));
}

const ops = { read, write, 'write-blocks': writeBlocks, execute, discover, 'write-attributes': writeAttributes, observe, cancel };

function run(c) {
  const done = (err, value) => {
    if (err) out({ id: c.id, ok: false, error: err.message || String(err) });
    else out(Object.assign({ id: c.id, ok: true }, value));
  };
  if (c.op === 'list') {
    return lwm2m.listDevices((err, ds) => done(err, err ? null : {
      registrations: ds.map((d) => ({ id: String(d.id), ep: d.name, lt: d.lifetime === undefined ? '' : String(d.lifetime), address: d.address + ':' + d.port }))
    }));
  }
  const op = ops[c.op];
  if (!op) return done(new Error('op ' + JSON.stringify(c.op) + ': want list or one of ' + Object.keys(ops).join(', ')));
  lwm2m.getDevice(c.ep, (err, dev) => {
    if (err) return done(new Error('endpoint ' + JSON.stringify(c.ep) + ' is not registered'));
    try { op(dev, c, done); } catch (e) { done(e); }
  });
}

function registrationHandlers() {
  // The library's handlers do not get the request; the tests need the query, the source and
  // the message type as sent. Hand the request to ours.
  for (const type of ['registration', 'updateRegistration', 'unregistration']) {
    const lib = info.handlers[type].lib;
    info.handlers[type].lib = (req, res, user) => lib(req, res, (...args) => user(req, ...args));
  }
  lwm2m.setHandler(info, 'registration', (req, ep, lt, version, binding, payload, cb) => {
    lwm2m.getDevice(ep, (err, d) => {
      const id = err ? '' : String(d.id);
      out(Object.assign({ event: 'register', t: now(), id, location: id && 'rd/' + id, ep, lt, lwm2m: version, b: binding },
        requestFields(req), { links: payload.split(',').map((s) => s.trim()).filter((s) => s) }));
      cb();
    });
  });
  lwm2m.setHandler(info, 'updateRegistration', (req, dev, payload, cb) => {
    const q = Object.fromEntries(requestFields(req).query.map((s) => s.split('=')));
    out(Object.assign({ event: 'update', t: now(), id: String(dev.id), ep: dev.name, lt: q.lt, b: q.b }, requestFields(req)));
    cb();
  });
  lwm2m.setHandler(info, 'unregistration', (req, dev, cb) => {
    out({ event: 'deregister', t: now(), id: String(dev.id), ep: dev.name, from: requestFields(req).from });
    cb();
  });
  // Bug worked around: setHandler('unregistration') restarts the lifetime check with the
  // interval read from the wrong object (undefined), so Node runs it every millisecond (11 %
  // of a core while idle). Restart it at 1 s; the check calls this handler, not the DELETE one.
  lwm2m.getRegistry().checkLifetime(1000, (dev, cb) => {
    out({ event: 'expire', t: now(), id: String(dev.id), ep: dev.name });
    cb();
  });
}

process.on('uncaughtException', (e) => {
  out({ event: 'error', t: now(), error: 'uncaught: ' + (e && e.stack || e) });
  process.exit(1);
});

lwm2m.start(config, (err, serverInfo) => {
  if (err) {
    out({ event: 'error', t: now(), error: 'start: ' + (err.message || err) });
    process.exit(1);
  }
  info = serverInfo;
  info.server._sock.prependListener('message', onDatagram);
  // With port 0 the kernel chose one; the library addresses its own requests to config.port.
  config.port = info.server._sock.address().port;
  registrationHandlers();
  out({ event: 'ready', t: now(), port: config.port });
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (!line.trim()) return;
    let c;
    try { c = JSON.parse(line); } catch (e) { return out({ event: 'error', t: now(), error: 'command ' + JSON.stringify(line) + ': ' + e.message }); }
    try { run(c); } catch (e) { out({ id: c.id, ok: false, error: e.message }); }
  }).on('close', () => lwm2m.stop(info, () => process.exit(0)));
});
