'use strict';
// fleet: a small agent fleet running for a few minutes, with a handful of
// each fault among ~300 workflows (see the note below and README.md).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const pg = require('pg');
const cluster = require('../lib/pg-cluster');
const { launch, waitForLine, sleep } = require('../lib/harness');

const PORTS = { monitor: 18901, agents: [18911, 18912, 18913, 18914], model: 18921, tool: 18922 };
const BATCH = 5;
const BATCH_EVERY_MS = 3000;
const N_BATCHES = 60; // 300 workflows
const LAST_A4_BATCH = 30; // agent-4 is stopped at ~100 s (after batch 33 started): its planted faults come before

// What each workflow name does on an agent (apps/fleet-agent.js).
const W = (stepMs = 400) => ['--step-ms', String(stepMs)];
const PLANS = {
  // healthy
  'summarize-pr': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, persist: true },
  'triage-issue': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, persist: true },
  'update-changelog': { spawn: { args: W() }, persist: true },
  'review-diff': { model: { model: 'small', timeoutMs: 10000 }, tool: { mode: 'ok' }, spawn: { args: W() } },
  'label-issues': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W(250) }, persist: true },
  'bump-deps': { tool: { mode: 'ok' }, spawn: { args: W() }, persist: true },
  'draft-reply': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() } },
  'summarize-thread': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, persist: true },
  'draft-design-doc': { model: { model: 'large', timeoutMs: 8000 }, spawn: { args: W() }, persist: true }, // slow model, within its timeout
  'settle-invoice': { ledger: { holdMs: 300 }, spawn: { args: W() }, persist: true },
  'settle-refund': { ledger: { holdMs: 300 }, spawn: { args: W() }, persist: true },
  'format': { spawn: { cmd: './tools/fmt.sh', args: ['--check'], workspace: true }, persist: true },
  'daily-digest': { report: { queries: 1 }, spawn: { args: W() } },
  'watch-ci-pipeline': { spawn: { args: ['--forever', '--step-ms', '2000', '--handle-sigterm'], background: true } },
  // faults
  'sandboxed-shell': { spawn: { args: W(), opts: { uid: -1 } } }, // sandbox uid not configured: spawn EINVAL
  'code-review': { model: { model: 'small', timeoutMs: 10000 }, spawn: { cmd: 'claude', args: ['--print', '--output-format', 'json', 'review the staged diff'] } }, // not installed: ENOENT
  'lint': { spawn: { cmd: './tools/lint.sh', args: ['--fix'], workspace: true } }, // no x bit: EACCES
  'run-integration-tests': { tool: { mode: 'rst' } }, // tool api resets the connection
  'diff-summary': { tool: { mode: 'fin' }, spawn: { args: W() } }, // tool api closes the connection
  'plan-migration': { model: { model: 'large', timeoutMs: 2000 }, spawn: { args: W() } }, // slow model: TimeoutError
  'weekly-report': { report: { queries: 2 }, persist: true }, // role agent_ro has CONNECTION LIMIT 1: 53300
  'export-legacy': { spawn: { args: W(), propagate: false } }, // child runs without CORRELATION_ID
  'index-repository': { spawn: { args: ['--step-ms', '150'] } }, // killed with kill -9 by the harness
  'build-embedding-cache': { spawn: { nodeArgs: ['--max-old-space-size=16'], args: ['--alloc'] } }, // V8 heap OOM
};

const TEXTS = {
  'summarize-pr': 'Summarize PR #231', 'triage-issue': 'Triage issue #87: scheduler deadlock report turned out to be a docs typo',
  'update-changelog': 'Update CHANGELOG for 2.4.0', 'review-diff': 'Review the staged diff', 'label-issues': 'Label new issues',
  'bump-deps': 'Bump pino to the latest minor', 'draft-reply': 'Draft a reply about request timeout defaults (requestTimeoutMs)',
  'summarize-thread': 'Summarize last quarter\'s OOMKilled postmortem for the newsletter', 'draft-design-doc': 'Draft the design doc for the retry queue',
  'settle-invoice': 'Settle usage invoice', 'settle-refund': 'Settle refund', 'format': 'Format sources', 'daily-digest': 'Daily digest of merged PRs',
  'watch-ci-pipeline': 'Watch the CI pipeline of main', 'sandboxed-shell': 'Run the repro script in the sandbox', 'code-review': 'Ask claude to review the diff',
  'lint': 'Lint and fix sources', 'run-integration-tests': 'Run the integration tests', 'diff-summary': 'Summarize the diff with the git tool',
  'plan-migration': 'Plan the schema migration', 'weekly-report': 'Weekly usage report', 'export-legacy': 'Export issues with the legacy exporter',
  'index-repository': 'Index the monorepo for search', 'build-embedding-cache': 'Build the embedding cache for the docs',
};
const HEALTHY = ['summarize-pr', 'triage-issue', 'update-changelog', 'review-diff', 'label-issues', 'bump-deps', 'draft-reply',
  'summarize-thread', 'settle-invoice', 'format', 'draft-design-doc', 'settle-refund', 'daily-digest'];
const FAULTS = [
  ['sandboxed-shell', 4], ['code-review', 4], ['lint', 4], ['run-integration-tests', 2], ['diff-summary', 2],
  ['plan-migration', 4], ['weekly-report', 4], ['export-legacy', 4], ['index-repository', 3], ['build-embedding-cache', 3],
];
const DEADLOCK_BATCHES = [[6, 0, 1], [22, 2, 0], [38, 1, 2], [50, 0, 2]]; // [batch, agent of settle-invoice, agent of settle-refund]

function workflows() {
  const agent = (i) => `agent-${i + 1}`;
  const slots = Array.from({ length: N_BATCHES }, () => []);
  for (let i = 0; i < 4; i++) slots[0].push({ workflow: 'watch-ci-pipeline', agent: agent(i), steps: 1 });
  for (const [b, x, y] of DEADLOCK_BATCHES) {
    slots[b].push({ workflow: 'settle-invoice', agent: agent(x), steps: 3, params: { from: 1, to: 2, amount: 25 } });
    slots[b].push({ workflow: 'settle-refund', agent: agent(y), steps: 3, params: { from: 2, to: 1, amount: 25 } });
  }
  FAULTS.forEach(([name, count], j) => {
    for (let k = 0; k < count; k++) {
      let b = 2 + Math.floor(((k + j / FAULTS.length) * (N_BATCHES - 4)) / count);
      while (slots[b].length >= 3) b = (b + 1) % N_BATCHES || 1;
      let a = (j + k) % 4;
      if (a === 3 && b > LAST_A4_BATCH) a = k % 3;
      slots[b].push({ workflow: name, agent: agent(a), steps: name === 'index-repository' ? 60 : 4 });
    }
  });
  let h = 0;
  let acct = 10;
  const out = [];
  for (let b = 0; b < N_BATCHES; b++) {
    while (slots[b].length < BATCH) {
      // the one-connection digest would share agent_ro's only slot with a weekly-report
      if (HEALTHY[h % HEALTHY.length] === 'daily-digest' && slots[b].some((w) => w.workflow === 'weekly-report')) h++;
      const name = HEALTHY[h % HEALTHY.length];
      const wf = { workflow: name, agent: agent((b * BATCH + slots[b].length) % 4), steps: 3 + (h % 5) };
      if (name.startsWith('settle-')) { wf.params = { from: acct, to: acct + 1, amount: 10 + (h % 7) }; acct += 2; }
      slots[b].push(wf);
      h++;
    }
    out.push(...slots[b].map((w) => ({ ...w, text: TEXTS[w.workflow] })));
  }
  return out;
}

async function setupDb(c) {
  const su = new pg.Client({ host: c.host, port: c.port, user: 'postgres', database: 'postgres' });
  await su.connect();
  await su.query('CREATE ROLE agent LOGIN; CREATE ROLE agent_ro LOGIN CONNECTION LIMIT 1');
  await su.query('CREATE DATABASE agents OWNER agent');
  await su.end();
  const a = new pg.Client({ host: c.host, port: c.port, user: 'agent', database: 'agents' });
  await a.connect();
  await a.query(`CREATE TABLE workflows (id uuid PRIMARY KEY, workflow text NOT NULL, agent text, status text NOT NULL, started_at timestamptz DEFAULT now(), finished_at timestamptz);
    CREATE TABLE results (id serial PRIMARY KEY, correlation_id uuid NOT NULL, agent text NOT NULL, workflow text NOT NULL, child_pid int, created_at timestamptz DEFAULT now());
    CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
    INSERT INTO accounts SELECT g, 100000 FROM generate_series(1, 400) g;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO agent_ro;`);
  await a.end();
}

// Lines of `file` that contain every needle, parsed.
function linesWith(file, ...needles) {
  let s = '';
  try { s = fs.readFileSync(file, 'utf8'); } catch (_) { return []; }
  return s.split('\n').filter((l) => needles.every((n) => l.includes(n))).map((l) => JSON.parse(l));
}

async function pause(p, ms) {
  process.kill(p.pid, 'SIGSTOP');
  await sleep(ms);
  process.kill(p.pid, 'SIGCONT');
}

module.exports = [{
  dir: 'fleet',
  expect: ['correlation-lost', 'econnrefused', 'econnreset', 'heap-oom', 'oom-killed', 'pg-deadlock', 'pg-too-many-connections',
    'request-timeout', 'spawn-eacces', 'spawn-einval', 'spawn-enoent', 'ws-ghost-agent', 'zombie-child'],
  note: 'A fleet running for ~3 minutes. manager.log (pino, apps/fleet-manager.js) runs 300 workflows in overlapping batches (5 every 3 s), each with a correlation id sent as X-Request-ID, a row in a real PostgreSQL 15 and a POST to one of four agents (apps/fleet-agent.js, express): agent-1.log and agent-2.log (pino-http, fetch), agent-3.log and agent-4.log (winston request logging, http.request for the tool API). Agents call model-api.log (apps/model-stub.js, "large" model answers after 3.5 s) and tool-api.log (apps/flaky-upstream.js), write to PostgreSQL, spawn apps/worker.js children (child-<pid>.log, pino, correlationId propagated) and keep a WebSocket with heartbeats to monitor.log (pino, apps/fleet-monitor.js, ping/pong liveness). Planted, each a few times: spawn EINVAL (uid -1), ENOENT (claude CLI missing), EACCES (./tools/lint.sh without x bit); ECONNRESET (tool API resets/closes: "fetch failed: read ECONNRESET"/"other side closed", "socket hang up"); request timeout (AbortSignal.timeout 2 s on the slow model: TimeoutError); pg 40P01 (two agents settling 1->2 and 2->1 at once, retried) and 53300 (role agent_ro CONNECTION LIMIT 1, two parallel report queries); correlation-lost (export-legacy children run without CORRELATION_ID: joined only by childPid); SIGKILL (index-repository children killed with kill -9 by the harness, standing in for the OOM killer: "child exited" signal SIGKILL); heap OOM (--max-old-space-size=16: V8 FATAL ERROR raw lines in the child file, signal SIGABRT). Monitor link: at ~33 s and ~129 s agent-1 and agent-2 are SIGSTOPped 3 s, the monitor terminates their sockets (no pong), they log code 1006 and "reconnected to monitor" ~1 s later (benign look-alikes); at ~57 s agent-3 (no reconnect logic) gets the same and stays disconnected until its shutdown ~2 min later while still taking work: ws-ghost-agent, monitor logs "agent heartbeat missed" and marks it offline. At ~100 s agent-4 (ON_SIGTERM=leave-children) gets SIGTERM: it finishes its in-flight tasks and exits without stopping its background watch-ci-pipeline child, which keeps logging heartbeats with its correlationId until the harness SIGKILLs it at the very end (zombie-child); the manager\'s next dispatches to agent-4 fail with "fetch failed: connect ECONNREFUSED" until it marks agent-4 unavailable after 3 consecutive failures; each refused workflow is re-dispatched to the next agent and completes. Other look-alikes: 429 busy + retry, a slow model call within its timeout, unpaired settle transactions, a one-connection report, ./tools/fmt.sh (plain-text stdout), task texts mentioning deadlock/OOMKilled/request timeout; agents 1-3 shut down gracefully at the end (background children stopped with SIGTERM, "child exited" logged).',
  async run(out) {
    const c = cluster.start(55432, { maxConnections: 40 });
    await setupDb(c);
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-ws-'));
    fs.mkdirSync(path.join(ws, 'tools'));
    fs.writeFileSync(path.join(ws, 'tools', 'lint.sh'), '#!/bin/sh\necho lint ok\n', { mode: 0o644 });
    fs.writeFileSync(path.join(ws, 'tools', 'fmt.sh'), '#!/bin/sh\necho fmt ok\n', { mode: 0o755 });

    const model = launch('apps/model-stub.js', { out, log: 'model-api.log', host: 'model-api', env: { PORT: String(PORTS.model), SLOW_MS: '3500' } });
    const tool = launch('apps/flaky-upstream.js', { out, log: 'tool-api.log', host: 'tool-api', env: { PORT: String(PORTS.tool) } });
    const mon = launch('apps/fleet-monitor.js', { out, log: 'monitor.log', host: 'monitor', env: { PORT: String(PORTS.monitor) } });
    await waitForLine(model.logFile, 'model api listening');
    await waitForLine(tool.logFile, 'tool api listening');
    await waitForLine(mon.logFile, 'monitor listening');

    const common = {
      PLANS: JSON.stringify(PLANS), PGPORT: String(c.port), MODEL_URL: `http://127.0.0.1:${PORTS.model}`, TOOL_API: `http://127.0.0.1:${PORTS.tool}`,
      WORKSPACE: ws, MONITOR_WS: `ws://127.0.0.1:${PORTS.monitor}/agents`, MAX_CONCURRENT: '3',
    };
    const agentEnv = [
      { LOGGER: 'pino', RECONNECT: '1' },
      { LOGGER: 'pino', RECONNECT: '1' },
      { LOGGER: 'winston', TOOL_CLIENT: 'http', RECONNECT: '0' }, // no reconnect logic: the ghost
      { LOGGER: 'winston', TOOL_CLIENT: 'http', RECONNECT: '1', ON_SIGTERM: 'leave-children' }, // leaves its background child behind
    ];
    const agents = agentEnv.map((e, i) => launch('apps/fleet-agent.js', {
      out, log: `agent-${i + 1}.log`, host: `agent-${i + 1}`, env: { ...common, ...e, AGENT_NAME: `agent-${i + 1}`, PORT: String(PORTS.agents[i]) },
    }));
    for (const a of agents) { await waitForLine(a.logFile, 'agent listening'); await waitForLine(a.logFile, 'connected to monitor'); }

    const WORKFLOWS = workflows();
    const mgr = launch('apps/fleet-manager.js', { out, log: 'manager.log', host: 'manager', env: {
      AGENTS: JSON.stringify(agents.map((a, i) => ({ name: `agent-${i + 1}`, url: `http://127.0.0.1:${PORTS.agents[i]}` }))),
      WORKFLOWS: JSON.stringify(WORKFLOWS), BATCH: String(BATCH), BATCH_EVERY_MS: String(BATCH_EVERY_MS), PGPORT: String(c.port),
    } });
    await waitForLine(mgr.logFile, 'manager started');
    const t0 = Date.now();
    const at = (s) => sleep(Math.max(0, t0 + s * 1000 - Date.now()));

    // The "OOM killer": kill -9 every index-repository child 1.5 s after it started.
    const killed = new Set();
    let watching = true;
    const oomKiller = (async () => {
      while (watching) {
        for (const a of agents) {
          for (const l of linesWith(a.logFile, '"child spawned"', '"workflow":"index-repository"')) {
            if (killed.has(l.childPid)) continue;
            killed.add(l.childPid);
            setTimeout(() => { try { execFileSync('kill', ['-9', String(l.childPid)]); } catch (_) { /* already gone */ } }, 1500);
          }
        }
        await sleep(100);
      }
    })();

    await at(33); await pause(agents[0], 3000); // benign: reconnects
    await at(57); await pause(agents[2], 3000); // ghost: never reconnects
    await at(100.5); agents[3].kill('SIGTERM'); // zombie: leaves its watcher running (between two batches: no request in flight on an idle keep-alive socket)
    const a4done = agents[3].done;
    await at(129); await pause(agents[1], 3000); // benign: reconnects
    await waitForLine(mgr.logFile, 'all workflows finished', 120000);
    watching = false; await oomKiller;
    await a4done;
    await sleep(2000);
    for (const a of agents.slice(0, 3)) { a.kill('SIGTERM'); await a.done; }
    await sleep(500);
    mgr.kill('SIGTERM'); await mgr.done;
    await sleep(1500);
    for (const p of [mon, model, tool]) { p.kill('SIGTERM'); await p.done; }
    const zombies = linesWith(agents[3].logFile, '"child spawned"', '"background":true').map((l) => l.childPid);
    for (const pid of zombies) { try { process.kill(pid, 'SIGKILL'); } catch (_) { /* gone */ } }
    await sleep(100);
    cluster.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  },
}];
