'use strict';
// Agent that supervises worker children (one child-<pid>.log each).
//   WORKFLOWS='[{"name":"lint","args":["--steps","2"]},{"name":"watch","args":["--forever"],"long":true}]'
//   ON_SIGTERM=kill-children (default) | leave-children
const path = require('path');
const { randomUUID } = require('crypto');
const { mkPino } = require('../lib/log');
const { spawnLogged } = require('../lib/childlog');

const log = mkPino(process.env.AGENT_NAME || 'agent-1');
const OUT = process.env.SCENARIO_OUT;
const WF = JSON.parse(process.env.WORKFLOWS);
const ON_SIGTERM = process.env.ON_SIGTERM || 'kill-children';
const children = new Map(); // pid -> {child, correlationId, name}
let shuttingDown = false;

function start(wf) {
  const correlationId = randomUUID();
  const l = log.child({ correlationId });
  l.info({ workflow: wf.name }, 'workflow started');
  const args = [...(wf.nodeArgs || []), path.join('apps', 'worker.js'), '--task', wf.name, ...(wf.args || [])];
  const child = spawnLogged(OUT, 'node', args, { env: { ...process.env, CORRELATION_ID: correlationId, WORKFLOWS: '' } });
  children.set(child.pid, { child, correlationId, name: wf.name });
  l.info({ childPid: child.pid, cmd: 'node', args, long: !!wf.long }, 'child spawned');
  const t0 = Date.now();
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child.pid);
    const expected = code === 0 || (shuttingDown && signal === 'SIGTERM');
    const o = { childPid: child.pid, workflow: wf.name, code, signal, runtimeMs: Date.now() - t0 };
    if (expected) l.info(o, 'child exited');
    else l.error(o, 'child exited');
    if (!shuttingDown) {
      if (expected) l.info({ workflow: wf.name }, 'workflow completed');
      else l.error({ workflow: wf.name, reason: signal ? `killed by ${signal}` : `exit code ${code}` }, 'workflow failed');
    }
    resolve();
  }));
}

process.on('SIGTERM', async () => {
  shuttingDown = true;
  log.info({ signal: 'SIGTERM', children: [...children.keys()], policy: ON_SIGTERM }, 'received SIGTERM, shutting down');
  if (ON_SIGTERM === 'kill-children') {
    const waits = [];
    for (const [pid, c] of children) {
      log.info({ childPid: pid, correlationId: c.correlationId }, 'stopping child');
      waits.push(new Promise((r) => c.child.once('exit', r)));
      c.child.kill('SIGTERM');
    }
    await Promise.all(waits);
  }
  log.info({ remainingChildren: children.size }, 'shutdown complete');
  process.exit(0);
});

(async () => {
  log.info({ workflows: WF.map((w) => w.name), onSigterm: ON_SIGTERM }, 'agent started');
  for (const wf of WF) {
    const p = start(wf);
    if (!wf.long) await p;
  }
  log.info({ running: [...children.keys()] }, 'all workflows dispatched');
  setInterval(() => {}, 1 << 30); // stay up until SIGTERM
})();
