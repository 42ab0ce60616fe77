// Runs npm raptorq 1.7.24 (WASM build of cberner/raptorq) for canon's RaptorQ
// interop test (tests/fec/npm_live_test.c). Usage: node raptorq_interop.mjs JOB.json
//
// JOB.json = {"tasks": [...]}, each task one of
//   {"op": "encode", "data": FILE, "mtu": N, "repair": R, "out": FILE}
//     Encoder.with_defaults(data, mtu).encode(R) -> packets written to out
//   {"op": "decode", "len": F, "mtu": N, "in": FILE, "out": FILE}
//     packets from in fed in order to Decoder.with_defaults(F, mtu) until it
//     returns the object, which is written to out
// Packet files are a sequence of (4-byte big-endian length, packet bytes).
// Prints one JSON array of results ({"ok", "packets"|"fed"}) on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'node_modules', 'raptorq');
// The package is an ES module without "type": "module"; load its text as one.
const src = fs.readFileSync(path.join(dir, 'raptorq.js'), 'utf8');
const rq = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));
rq.initSync(fs.readFileSync(path.join(dir, 'raptorq_bg.wasm')));

function readPackets(file) {
  const buf = fs.readFileSync(file);
  const out = [];
  for (let off = 0; off < buf.length;) {
    const n = buf.readUInt32BE(off);
    out.push(new Uint8Array(buf.buffer, buf.byteOffset + off + 4, n));
    off += 4 + n;
  }
  return out;
}

function writePackets(file, packets) {
  const total = packets.reduce((s, p) => s + 4 + p.length, 0);
  const buf = Buffer.alloc(total);
  let off = 0;
  for (const p of packets) {
    buf.writeUInt32BE(p.length, off);
    buf.set(p, off + 4);
    off += 4 + p.length;
  }
  fs.writeFileSync(file, buf);
}

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = [];
for (const t of job.tasks) {
  if (t.op === 'encode') {
    const data = new Uint8Array(fs.readFileSync(t.data));
    const enc = rq.Encoder.with_defaults(data, t.mtu);
    const packets = enc.encode(t.repair);
    enc.free();
    writePackets(t.out, packets);
    results.push({ ok: true, packets: packets.length });
  } else if (t.op === 'decode') {
    const dec = rq.Decoder.with_defaults(BigInt(t.len), t.mtu);
    let fed = 0, obj;
    for (const p of readPackets(t.in)) {
      fed++;
      obj = dec.decode(p);
      if (obj !== undefined) break;
    }
    dec.free();
    if (obj !== undefined) fs.writeFileSync(t.out, obj);
    results.push({ ok: obj !== undefined, fed });
  } else {
    throw new Error('unknown op ' + t.op);
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
