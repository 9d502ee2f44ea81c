'use strict';
// apps/worker.js in the logger shape of WORKER_LOG_SHAPE / WORKER_ID_FIELD
// (lib/shapes-log.js), for the shapes scenario. Same behaviour, plus
// --legacy-buffer: calls Buffer() once, so Node prints its real DEP0005
// DeprecationWarning on stderr (a harmless stderr line); --dump-kb N: logs its
// settings as one line of about N KiB (longer than a container runtime's 16 KiB).
// A child worker process, as spawned by an agent for one task.
//   node apps/worker.js --task summarize --steps 3 [--step-ms 40] [--exit 0]
//   node apps/worker.js --forever [--handle-sigterm]     long-running, heartbeats
//   node apps/worker.js --alloc                          grows the heap until V8 gives up
// If CORRELATION_ID is in the environment the worker puts it on every line
// (healthy propagation); if not, its lines carry only pid/hostname.
const { parseArgs } = require('util');
const { create } = require('../lib/shapes-log');

const { values: a } = parseArgs({
  options: {
    task: { type: 'string', default: 'task' },
    steps: { type: 'string', default: '3' },
    'step-ms': { type: 'string', default: '40' },
    exit: { type: 'string', default: '0' },
    forever: { type: 'boolean', default: false },
    'handle-sigterm': { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
    'legacy-buffer': { type: 'boolean', default: false },
    'dump-kb': { type: 'string' },
    text: { type: 'string' },
  },
});

const root = create('worker', { shape: process.env.WORKER_LOG_SHAPE, idField: process.env.WORKER_ID_FIELD });
const cid = process.env.CORRELATION_ID;
const log = cid ? root.withId(cid) : root;
const stepMs = Number(a['step-ms']);

log.info({ task: a.task, argv: process.argv.slice(2), text: a.text }, 'worker started');

if (a['legacy-buffer']) Buffer(16); // eslint-disable-line no-buffer-constructor
if (a['dump-kb']) { // one big line: the effective settings, as some tools log them at start
  const settings = {};
  for (let i = 0; JSON.stringify(settings).length < Number(a['dump-kb']) * 1024; i++) settings[`rule_${String(i).padStart(4, '0')}`] = { enabled: i % 3 !== 0, severity: ['info', 'warn', 'error'][i % 3], paths: [`src/module_${i % 97}/**`, `!src/module_${i % 97}/vendor/**`] };
  log.info({ settings, rules: Object.keys(settings).length }, 'effective settings');
}

if (a['handle-sigterm']) {
  process.on('SIGTERM', () => {
    log.info({ signal: 'SIGTERM' }, 'received SIGTERM, finishing current step and exiting');
    setTimeout(() => { log.info({}, 'worker exiting cleanly'); process.exit(0); }, 30);
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
