'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { launch, waitForLine, sleep } = require('../lib/harness');

async function run(out, reconnect, port) {
  const STATE_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mgr-')), 'agents.json');
  const menv = { PORT: String(port), STATE_FILE, HEARTBEAT_TIMEOUT_MS: '3000' };
  let mgr = launch('apps/ws-manager.js', { out, log: 'manager.log', host: 'manager', env: menv });
  await waitForLine(mgr.logFile, 'manager started');
  const agent = launch('apps/ws-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { AGENT_ID: 'agent-1', MANAGER_WS: `ws://127.0.0.1:${port}/agents`, RECONNECT: reconnect ? '1' : '0' } });
  await waitForLine(mgr.logFile, 'agent connected');
  await sleep(2000);
  process.kill(mgr.pid, 'SIGKILL'); // kill -9: no shutdown line
  const r = await mgr.done;
  if (r.signal !== 'SIGKILL') throw new Error('manager not killed');
  await sleep(300);
  mgr = launch('apps/ws-manager.js', { out, log: 'manager.log', host: 'manager', env: menv });
  if (reconnect) await sleep(3000);
  else await waitForLine(mgr.logFile, 'agent missing', 15000);
  await sleep(1500);
  agent.kill('SIGTERM'); await agent.done;
  await sleep(200);
  mgr.kill('SIGTERM'); await mgr.done;
  fs.rmSync(path.dirname(STATE_FILE), { recursive: true, force: true });
}

module.exports = [
  {
    dir: 'ws-ghost-agent',
    expect: ['ws-ghost-agent'],
    note: 'manager.log (pino, apps/ws-manager.js, ws server) dispatches tasks to agent.log (winston, apps/ws-agent.js, ws client, no reconnect logic). After ~2 s the harness SIGKILLs the manager (no shutdown line; pino\'s async buffer may lose its last lines), the agent logs "connection to manager closed" code 1006 and stays up without reconnecting. The manager is restarted (new pid, same file), restores its agent registry, logs "no connected agent for task, queued", "agent heartbeat missed" (warn) and "agent missing: no heartbeat, marking offline" (error) for agent-1, which is still alive (its SIGTERM shutdown line comes later).',
    run: (out) => run(out, false, 18601),
  },
  {
    dir: 'ws-reconnect-healthy',
    expect: [],
    note: 'Same programs with RECONNECT=1: the manager is SIGKILLed and restarted within ~0.5 s; the agent logs the 1006 close, "reconnecting to manager" (attempt 1, delay 1000 ms) and "reconnected to manager"; the restarted manager logs "agent connected" (known:true), a few "no connected agent for task, queued" warnings while the agent waits out its backoff, then dispatches and completes tasks again. No ECONNREFUSED: the manager is back before the first retry.',
    run: (out) => run(out, true, 18602),
  },
];
