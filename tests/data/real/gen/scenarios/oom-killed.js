'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { launch, waitForLine, sleep } = require('../lib/harness');
const { podAndEvents } = require('../lib/k8s');

function spawnedLongChild(file) {
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (l.includes('"child spawned"') && l.includes('"long":true')) return JSON.parse(l);
  }
  return null;
}

module.exports = [{
  dir: 'oom-killed',
  expect: ['oom-killed'],
  note: 'agent.log (pino, apps/supervisor.js) runs workflows; a long-running worker (child-<pid>.log, pino) is really killed with `kill -9 <pid>` by the harness (standing in for the kernel OOM killer): the supervisor logs "child exited" at error with {code:null, signal:"SIGKILL"} and "workflow failed" (reason "killed by SIGKILL"); the child\'s log just stops. kubectl-get-pod.json and kubectl-get-events.json are HAND-CRAFTED (no Kubernetes here) in the shape kubectl prints (`get pod -o json` on one line; `get events -o json` items one per line): container tool-sandbox lastState.terminated {reason:"OOMKilled", exitCode:137}, restartCount 1, a kernel-monitor OOMKilling event naming the killed pid, then Pulled/Created/Started; their timestamps and pid are taken from the real run.',
  async run(out) {
    const WORKFLOWS = JSON.stringify([
      { name: 'index-repository', args: ['--forever', '--step-ms', '200'], long: true },
      { name: 'summarize-pr', args: ['--steps', '3'] },
      { name: 'label-issues', args: ['--steps', '2'] },
    ]);
    const s = launch('apps/supervisor.js', { out, log: 'agent.log', host: 'agent-1', env: { WORKFLOWS } });
    await waitForLine(s.logFile, 'all workflows dispatched');
    await sleep(800);
    const sp = spawnedLongChild(s.logFile);
    const killedAt = Date.now();
    execFileSync('kill', ['-9', String(sp.childPid)]);
    await waitForLine(s.logFile, 'killed by SIGKILL');
    await sleep(500);
    s.kill('SIGTERM'); await s.done;
    const { podJson, events } = podAndEvents({ killedPid: sp.childPid, startedAt: sp.time, finishedAt: killedAt, restartedAt: killedAt + 1800 });
    fs.writeFileSync(path.join(out, 'kubectl-get-pod.json'), JSON.stringify(podJson) + '\n');
    fs.writeFileSync(path.join(out, 'kubectl-get-events.json'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  },
}];
