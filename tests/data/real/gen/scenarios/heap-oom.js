'use strict';
const fs = require('fs');
const { launch, waitForLine, sleep } = require('../lib/harness');

module.exports = [{
  dir: 'heap-oom',
  expect: ['heap-oom'],
  note: 'agent.log (pino, apps/supervisor.js) spawns workers; one runs `node --max-old-space-size=16 apps/worker.js --alloc` and grows its heap until V8 aborts. Its child-<pid>.log holds its pino lines followed by the raw V8 stderr report ("<--- Last few GCs --->", "FATAL ERROR: ... JavaScript heap out of memory", native stack) exactly as printed. The supervisor logs "child exited" at error with code null, signal "SIGABRT" (a shell would report 134) and "workflow failed". Other workflows exit 0. The harness then SIGTERMs the supervisor (graceful shutdown, no children left).',
  async run(out) {
    const WORKFLOWS = JSON.stringify([
      { name: 'summarize-thread', args: ['--steps', '3'] },
      { name: 'build-embedding-cache', nodeArgs: ['--max-old-space-size=16'], args: ['--alloc'] },
      { name: 'summarize-thread', args: ['--steps', '2'] },
    ]);
    const s = launch('apps/supervisor.js', { out, log: 'agent.log', host: 'agent-1', env: { WORKFLOWS } });
    await waitForLine(s.logFile, 'all workflows dispatched', 60000);
    await sleep(200);
    s.kill('SIGTERM'); await s.done;
  },
}];
