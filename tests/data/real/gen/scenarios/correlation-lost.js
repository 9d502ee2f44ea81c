'use strict';
const { launch, waitForLine, sleep } = require('../lib/harness');

module.exports = [{
  dir: 'correlation-lost',
  expect: ['correlation-lost'],
  note: 'manager.log (pino, apps/orchestrator.js) dispatches 4 workflows to agent.log (express + pino-http, apps/http-agent.js) with X-Request-ID = correlationId. The agent logs the request with correlationId and "spawning child" {correlationId, childPid}, but runs the worker with PROPAGATE=0, so each child-<pid>.log (pino, ISO time) has only pid/hostname and no correlationId; the agent\'s "child exited" and the manager\'s "agent responded" (childPid) carry the id.',
  async run(out) {
    const agent = launch('apps/http-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { PORT: '18701', AGENT_NAME: 'agent-1', PROPAGATE: '0' } });
    await waitForLine(agent.logFile, 'agent listening');
    const WORKFLOWS = JSON.stringify([
      { workflow: 'summarize-pr', text: 'Summarize PR #231', steps: 3 },
      { workflow: 'triage-issue', text: 'Triage issue #87', steps: 2 },
      { workflow: 'update-changelog', text: 'Update CHANGELOG for 2.4.0', steps: 3 },
      { workflow: 'review-diff', text: 'Review the staged diff', steps: 2 },
    ]);
    const m = launch('apps/orchestrator.js', { out, log: 'manager.log', host: 'manager', env: { AGENTS: JSON.stringify([{ name: 'agent-1', url: 'http://127.0.0.1:18701' }]), WORKFLOWS } });
    await waitForLine(m.logFile, 'all workflows finished', 30000);
    await sleep(100);
    for (const p of [m, agent]) { p.kill('SIGTERM'); await p.done; }
  },
}];
