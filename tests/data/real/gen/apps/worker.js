'use strict';
// A child worker process, as spawned by an agent for one task.
//   node apps/worker.js --task summarize --steps 3 [--step-ms 40] [--exit 0]
//   node apps/worker.js --forever [--handle-sigterm]     long-running, heartbeats
//   node apps/worker.js --alloc                          grows the heap until V8 gives up
// If CORRELATION_ID is in the environment the worker puts it on every line
// (healthy propagation); if not, its lines carry only pid/hostname.
const { parseArgs } = require('util');
const { mkPino } = require('../lib/log');

const { values: a } = parseArgs({
  options: {
    task: { type: 'string', default: 'task' },
    steps: { type: 'string', default: '3' },
    'step-ms': { type: 'string', default: '40' },
    exit: { type: 'string', default: '0' },
    forever: { type: 'boolean', default: false },
    'handle-sigterm': { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
    text: { type: 'string' },
  },
});

const root = mkPino('worker', { isoTime: true });
const cid = process.env.CORRELATION_ID;
const log = cid ? root.child({ correlationId: cid }) : root;
const stepMs = Number(a['step-ms']);

log.info({ task: a.task, argv: process.argv.slice(2), text: a.text }, 'worker started');

if (a['handle-sigterm']) {
  process.on('SIGTERM', () => {
    log.info({ signal: 'SIGTERM' }, 'received SIGTERM, finishing current step and exiting');
    setTimeout(() => { log.info('worker exiting cleanly'); process.exit(0); }, 30);
  });
}

if (a.alloc) {
  // Keep everything reachable so the old space only grows.
  const keep = [];
  let n = 0;
  const tick = () => {
    for (let i = 0; i < 2000; i++) keep.push({ i, s: 'x'.repeat(64) + i, arr: new Array(16).fill(i) });
    n++;
    if (n % 20 === 0) {
      const m = process.memoryUsage();
      log.debug({ batch: n, items: keep.length, heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss }, 'building embedding cache');
    }
    setImmediate(tick);
  };
  log.info({ heapLimitMb: Number((process.execArgv.join(' ').match(/max-old-space-size=(\d+)/) || [])[1]) || null }, 'loading document index into memory');
  tick();
} else if (a.forever) {
  let beat = 0;
  setInterval(() => { beat++; log.info({ beat, uptimeMs: Math.round(process.uptime() * 1000) }, 'worker heartbeat'); }, stepMs);
} else {
  const steps = Number(a.steps);
  let i = 0;
  const step = () => {
    i++;
    log.debug({ step: i, of: steps }, 'step done');
    if (i < steps) return setTimeout(step, stepMs);
    const code = Number(a.exit);
    if (code === 0) log.info({ task: a.task, steps }, 'task complete');
    else log.error({ task: a.task, exitCode: code }, 'task failed');
    process.exitCode = code;
  };
  setTimeout(step, stepMs);
}
