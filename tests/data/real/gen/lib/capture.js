'use strict';
// The harness as a container runtime: it reads each process's stdout and
// stderr and writes every line, as it arrives, in three forms under the
// corpus directory:
//   raw/<file>                                    the text, stdout and stderr interleaved
//                                                 in arrival order (like `docker logs`)
//   docker/containers/<pod>_<ns>_<container>-<id>.log
//                                                 json-file lines {"log","stream","time"}: time is
//                                                 the arrival time, RFC3339 with 9 fraction digits;
//                                                 lines over 16 KiB are cut into 16 KiB pieces
//                                                 without "\n" (dockerd); <, >, & and U+2028/9
//                                                 escaped as Go's encoder does
//   cri/pods/<ns>_<pod>_<uid>/<container>/<restart>.log
//                                                 "<RFC3339Nano> <stream> F|P <text>" (containerd:
//                                                 P for each 16 KiB piece but the last)
// Sources: the pipes of a process the harness started (attach), or the two
// spool files (child-<pid>.stdout / .stderr) an agent gave a child, which
// the harness tails every 50 ms (tailSpool).
const fs = require('fs');
const path = require('path');

const MAX = 16 * 1024;
// ns clock: wall clock at start + monotonic offset
const T0 = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
function nowNs() { return T0 + process.hrtime.bigint(); }
function fmt(ns, trim) {
  const ms = Number(ns / 1000000n);
  const frac = String(ns % 1000000000n).padStart(9, '0');
  const base = new Date(ms).toISOString().slice(0, 19);
  if (!trim) return `${base}.${frac}Z`;
  const f = frac.replace(/0+$/, '');
  return f ? `${base}.${f}Z` : `${base}Z`;
}
function goJson(s) {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

class Corpus {
  constructor(out, o = {}) {
    this.out = out;
    this.ns = o.namespace || 'fleet';
    this.rng = o.rng || Math.random;
    for (const d of ['raw', 'docker/containers', 'cri/pods']) fs.mkdirSync(path.join(out, d), { recursive: true });
    this.pods = new Map();
    this.sinks = new Set();
  }
  hex(n) { let s = ''; for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.rng() * 16)]; return s; }
  alnum(n) { const a = 'bcdfghjklmnpqrstvwxz2456789'; let s = ''; for (let i = 0; i < n; i++) s += a[Math.floor(this.rng() * a.length)]; return s; }
  // a Deployment-style pod: <app>-<replicaset hash>-<5 chars>
  pod(app) {
    if (!this.pods.has(app)) {
      const h = this.hex(32);
      this.pods.set(app, {
        name: `${app}-${this.alnum(9)}-${this.alnum(5)}`,
        uid: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`,
        restarts: new Map(),
      });
    }
    return this.pods.get(app);
  }
  // sink(rawFile, app, container): one container instance; a second sink for
  // the same container is its restart (new container id, <n>.log in CRI)
  sink(rawFile, app, container) {
    const p = this.pod(app);
    const n = p.restarts.has(container) ? p.restarts.get(container) + 1 : 0;
    p.restarts.set(container, n);
    const s = new Sink(this, rawFile, p, container, n, this.hex(64));
    this.sinks.add(s);
    return s;
  }
  closeAll() { for (const s of this.sinks) s.end(); }
}

class Sink {
  constructor(c, rawFile, pod, container, restart, id) {
    this.c = c;
    this.rawFile = path.join(c.out, 'raw', rawFile);
    this.dockerFile = path.join(c.out, 'docker/containers', `${pod.name}_${c.ns}_${container}-${id}.log`);
    const criDir = path.join(c.out, 'cri/pods', `${c.ns}_${pod.name}_${pod.uid}`, container);
    fs.mkdirSync(criDir, { recursive: true });
    this.criFile = path.join(criDir, `${restart}.log`);
    this.fds = [this.rawFile, this.dockerFile, this.criFile].map((f) => fs.openSync(f, 'a'));
    this.pending = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    this.hooks = [];
    this.ended = false;
    this.pod = pod;
    this.container = container;
  }
  onLine(fn) { this.hooks.push(fn); }
  write(stream, chunk) {
    if (this.ended) return;
    let buf = Buffer.concat([this.pending[stream], chunk]);
    for (;;) {
      const i = buf.indexOf(10);
      if (i < 0) break;
      this.line(stream, buf.subarray(0, i), true);
      buf = buf.subarray(i + 1);
    }
    this.pending[stream] = Buffer.from(buf);
  }
  line(stream, b, nl) {
    const ns = nowNs();
    const [raw, dk, cri] = this.fds;
    fs.writeSync(raw, Buffer.concat([b, Buffer.from(nl ? '\n' : '')]));
    const t9 = fmt(ns, false);
    const tc = fmt(ns, true);
    let d = '';
    let r = '';
    for (let off = 0; off < b.length || off === 0; off += MAX) {
      const piece = b.subarray(off, off + MAX);
      const last = off + MAX >= b.length;
      const txt = piece.toString('utf8');
      d += `{"log":${goJson(txt + (last && nl ? '\n' : ''))},"stream":"${stream}","time":"${t9}"}\n`;
      r += `${tc} ${stream} ${last ? 'F' : 'P'} ${txt}\n`;
      if (b.length === 0) break;
    }
    fs.writeSync(dk, d);
    fs.writeSync(cri, r);
    if (this.hooks.length) { const s = b.toString('utf8'); for (const h of this.hooks) h(s, stream); }
  }
  end() {
    if (this.ended) return;
    for (const st of ['stdout', 'stderr']) if (this.pending[st].length) this.line(st, this.pending[st], false);
    this.ended = true;
    for (const fd of this.fds) fs.closeSync(fd);
  }
}

// Pipes of a process started by the harness.
function attach(child, sink) {
  child.stdout.on('data', (d) => sink.write('stdout', d));
  child.stderr.on('data', (d) => sink.write('stderr', d));
  let open = 2;
  const done = () => { if (--open === 0) sink.end(); };
  child.stdout.on('end', done);
  child.stderr.on('end', done);
}

// Tail <spool>/<agent>/child-<pid>.stdout|.stderr (regular files an agent
// opened for a child) into sinks made by mkSink(agent, pid).
function tailSpool(spool, mkSink) {
  const files = new Map(); // path -> {pos, sink, stream}
  const sinks = new Map();
  let stopped = false;
  const poll = () => {
    let agents = [];
    try { agents = fs.readdirSync(spool); } catch (_) { return; }
    for (const a of agents) {
      let names = [];
      try { names = fs.readdirSync(path.join(spool, a)); } catch (_) { continue; }
      for (const n of names.sort((x, y) => (x.replace('stdout', '0') < y.replace('stdout', '0') ? -1 : 1))) {
        const m = /^child-(\d+)\.(stdout|stderr)$/.exec(n);
        if (!m) continue;
        const p = path.join(spool, a, n);
        let f = files.get(p);
        if (!f) {
          const key = `${a}/${m[1]}`;
          if (!sinks.has(key)) sinks.set(key, mkSink(a, Number(m[1])));
          f = { pos: 0, sink: sinks.get(key), stream: m[2], fd: fs.openSync(p, 'r') };
          files.set(p, f);
        }
        const size = fs.fstatSync(f.fd).size;
        if (size > f.pos) {
          const b = Buffer.alloc(size - f.pos);
          const got = fs.readSync(f.fd, b, 0, b.length, f.pos);
          f.pos += got;
          f.sink.write(f.stream, b.subarray(0, got));
        }
      }
    }
  };
  const t = setInterval(() => { if (!stopped) poll(); }, 50);
  return {
    stop() { stopped = true; clearInterval(t); poll(); for (const f of files.values()) fs.closeSync(f.fd); for (const s of sinks.values()) s.end(); },
  };
}

module.exports = { Corpus, attach, tailSpool, nowNs, fmt };
