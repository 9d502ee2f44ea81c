'use strict';
// Regenerates tests/data/real/<scenario>/ and tests/data/real/MANIFEST.json.
//   node run-all.js                 all scenarios
//   node run-all.js spawn-enoent    only the named scenario dir(s) (MANIFEST is still rewritten in full)
const fs = require('fs');
const path = require('path');

const GEN = __dirname;
const REAL = path.resolve(GEN, '..');
const ORDER = [
  'spawn', 'fetch-undefined', 'request-timeout', 'econnreset', 'econnrefused', 'enotfound',
  'tls-untrusted', 'ws', 'correlation-lost', 'pg', 'oom-killed', 'heap-oom', 'shutdown', 'healthy-workflows', 'fleet', 'shapes',
];

// Paths that would reveal the generating machine are rewritten to /app/...
// (the only rewrite made to the logs). Subdirectories too (shapes-*/raw, ...).
function sanitize(dir) {
  const nm = require.resolve('pino').replace(/\/pino\/pino\.js$/, '');
  const reps = [[GEN, '/app'], [nm, '/app/node_modules']];
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) { sanitize(p); continue; }
    if (!fs.statSync(p).isFile()) continue;
    let s = fs.readFileSync(p, 'utf8');
    const before = s;
    for (const [a, b] of reps) s = s.split(a).join(b);
    s = s.replace(/\/(?:tmp|work|root|home)\/[^\s"'`:)]*/g, (m) => '/app/' + path.basename(m));
    if (s !== before) fs.writeFileSync(p, s);
  }
}

(async () => {
  const only = process.argv.slice(2);
  const manifest = [];
  for (const mod of ORDER) {
    const entries = require(`./scenarios/${mod}`);
    for (const e of entries) manifest.push({ dir: e.dir, expect: e.expect, note: e.note });
    const todo = entries.filter((e) => e.run && (!only.length || only.includes(e.dir)));
    if (!todo.length) continue;
    for (const e of todo) {
      const out = path.join(REAL, e.dir);
      fs.rmSync(out, { recursive: true, force: true });
      fs.mkdirSync(out, { recursive: true });
    }
    const t0 = Date.now();
    process.stderr.write(`== ${todo.map((e) => e.dir).join(', ')}\n`);
    for (const e of todo) await e.run(path.join(REAL, e.dir));
    for (const e of todo) sanitize(path.join(REAL, e.dir));
    process.stderr.write(`   done in ${Date.now() - t0} ms\n`);
  }
  fs.writeFileSync(path.join(REAL, 'MANIFEST.json'), JSON.stringify({ scenarios: manifest }, null, 2) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
