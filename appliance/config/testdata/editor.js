// editor.js SERVER DIR: opens every DIR/*.yaml in the YAML language server SERVER (the
// yaml-language-server program VS Code's YAML extension runs), as an editor does, and prints
// a JSON line per file: {"file": NAME, "diagnostics": ["LINE:COL: message", ...]}. The files
// name their schema with the modeline; the server reads it from DIR.
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [server, dir] = [process.argv[2], path.resolve(process.argv[3])];
const files = fs.readdirSync(dir).filter(f => f.endsWith('.yaml'));
const srv = spawn(process.execPath, [server, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const settings = { validate: true, schemaStore: { enable: false } };
const pending = {};
const seen = new Set();
let buf = Buffer.alloc(0);
let id = 0;

function send(msg) {
  const s = JSON.stringify(Object.assign({ jsonrpc: '2.0' }, msg));
  srv.stdin.write('Content-Length: ' + Buffer.byteLength(s) + '\r\n\r\n' + s);
}

function request(method, params) {
  return new Promise(resolve => { pending[++id] = resolve; send({ id, method, params }); });
}

function handle(msg) {
  if (msg.id !== undefined && !msg.method) {
    pending[msg.id](msg.result);
  } else if (msg.method === 'textDocument/publishDiagnostics') {
    const file = path.basename(msg.params.uri);
    if (seen.has(file)) return;
    seen.add(file);
    const diagnostics = msg.params.diagnostics.map(d => `${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`);
    console.log(JSON.stringify({ file, diagnostics }));
    if (seen.size === files.length) { srv.kill(); process.exit(0); }
  } else if (msg.method === 'workspace/configuration') {
    send({ id: msg.id, result: msg.params.items.map(() => settings) });
  } else if (msg.id !== undefined) {
    send({ id: msg.id, result: null });
  }
}

srv.stdout.on('data', data => {
  buf = Buffer.concat([buf, data]);
  for (;;) {
    const head = buf.indexOf('\r\n\r\n');
    if (head < 0) return;
    const len = parseInt(/Content-Length: (\d+)/i.exec(buf.subarray(0, head).toString())[1], 10);
    if (buf.length < head + 4 + len) return;
    const body = buf.subarray(head + 4, head + 4 + len).toString();
    buf = buf.subarray(head + 4 + len);
    handle(JSON.parse(body));
  }
});

(async () => {
  setTimeout(() => { console.error(`no diagnostics for ${files.length - seen.size} of ${files.length} files in 120 s`); srv.kill(); process.exit(1); }, 120000);
  await request('initialize', { processId: process.pid, rootUri: 'file://' + dir, capabilities: { workspace: { configuration: true } } });
  send({ method: 'initialized', params: {} });
  send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: settings } } });
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    send({ method: 'textDocument/didOpen', params: { textDocument: { uri: 'file://' + path.join(dir, f), languageId: 'yaml', version: 1, text } } });
  }
})();
