'use strict';
// A search-index service whose event loop is blocked by a synchronous index
// rebuild right after it starts listening: the kernel completes handshakes
// only until the (tiny) accept backlog is full, later SYNs are dropped.
const net = require('net');
const { mkPino } = require('../lib/log');

const log = mkPino('search-index', { sync: true });
const ports = (process.env.PORTS || '18202,18203').split(',').map(Number);
const BLOCK_MS = Number(process.env.BLOCK_MS || 8000);
let up = 0;
for (const port of ports) {
  net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(port, '127.0.0.1', 1, () => {
    log.info({ port, backlog: 1 }, 'listening');
    if (++up < ports.length) return;
    log.info({ segments: 412 }, 'rebuilding index synchronously');
    const t0 = Date.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BLOCK_MS);
    log.warn({ blockedMs: Date.now() - t0 }, 'index rebuilt; event loop was blocked');
  });
}
process.on('SIGTERM', () => { log.info('SIGTERM received, exiting'); process.exit(0); });
