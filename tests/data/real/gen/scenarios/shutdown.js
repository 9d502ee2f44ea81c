'use strict';
const fs = require('fs');
const { launch, waitForLine, sleep } = require('../lib/harness');

const longChildren = (file) => fs.readFileSync(file, 'utf8').split('\n')
  .filter((l) => l.includes('"child spawned"') && l.includes('"long":true')).map((l) => JSON.parse(l).childPid);

module.exports = [
  {
    dir: 'zombie-child',
    expect: ['zombie-child'],
    note: 'agent.log (pino, apps/supervisor.js with ON_SIGTERM=leave-children) runs a short workflow and starts a long-running watcher child (not detached). The harness sends SIGTERM to the supervisor: it logs "received SIGTERM, shutting down" (children:[pid]) and "shutdown complete" (remainingChildren:1) and exits 0 without signalling the child; the child (child-<pid>.log, pino, correlationId + pid) keeps logging "worker heartbeat" for ~2.5 s after the parent\'s last line, then the harness SIGKILLs it silently (no process is left to log that).',
    async run(out) {
      const WORKFLOWS = JSON.stringify([
        { name: 'summarize-pr', args: ['--steps', '2'] },
        { name: 'watch-ci-pipeline', args: ['--forever', '--step-ms', '300'], long: true },
      ]);
      const s = launch('apps/supervisor.js', { out, log: 'agent.log', host: 'agent-1', env: { WORKFLOWS, ON_SIGTERM: 'leave-children' } });
      await waitForLine(s.logFile, 'all workflows dispatched');
      await sleep(1000);
      const pids = longChildren(s.logFile);
      s.kill('SIGTERM'); await s.done;
      await sleep(2500);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await sleep(100);
    },
  },
  {
    dir: 'graceful-shutdown-healthy',
    expect: [],
    note: 'Same supervisor with ON_SIGTERM=kill-children and two long-running children. On SIGTERM it logs "stopping child" for each, sends SIGTERM, and logs "child exited" at info: one child handles SIGTERM and exits {code:0, signal:null} after logging "received SIGTERM ...", the other dies {code:null, signal:"SIGTERM"}; then "shutdown complete" (remainingChildren:0). No child writes after the parent\'s last line.',
    async run(out) {
      const WORKFLOWS = JSON.stringify([
        { name: 'summarize-pr', args: ['--steps', '2'] },
        { name: 'watch-ci-pipeline', args: ['--forever', '--step-ms', '300', '--handle-sigterm'], long: true },
        { name: 'tail-deploy-log', args: ['--forever', '--step-ms', '400'], long: true },
      ]);
      const s = launch('apps/supervisor.js', { out, log: 'agent.log', host: 'agent-1', env: { WORKFLOWS, ON_SIGTERM: 'kill-children' } });
      await waitForLine(s.logFile, 'all workflows dispatched');
      await sleep(1000);
      s.kill('SIGTERM'); await s.done;
      await sleep(300);
    },
  },
];
