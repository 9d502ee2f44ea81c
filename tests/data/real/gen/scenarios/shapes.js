'use strict';
// shapes: the fleet of scenarios/fleet.js (a manager, four agents, their
// workers, a monitor over WebSocket, PostgreSQL, model and tool stubs) where
// every process logs in a Node.js logger shape and spells the correlation id
// its own way, both picked from a SEED; each seed gives one corpus dir
// (shapes-1, shapes-2) in three forms: raw/, docker/ and cri/ (lib/capture.js).
// TRUTH.json says what every workflow is expected to raise (README.md).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const pg = require('pg');
const cluster = require('../lib/pg-cluster');
const { launch, waitForLine, sleep } = require('../lib/harness');
const { Corpus, tailSpool } = require('../lib/capture');

const PORTS = { monitor: 18931, agents: [18941, 18942, 18943, 18944], model: 18951, tool: 18952 };
const BATCH = 5;
const BATCH_EVERY_MS = 2500;
const N_BATCHES = 60; // 300 workflows in 150 s
const T = { stop1: 25, agent4Term: 78.25, monitorRestart: 100, monitorDownMs: 4000, stop2: 125 };
const LAST_A4_BATCH = 30; // agent-4 gets SIGTERM at ~78 s (after batch 31 started): its planted faults come before

// ---- seeded choices ------------------------------------------------------
function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const LOGGERS = ['pino', 'pino-cause', 'winston-meta', 'winston-spread', 'bunyan', 'console-ts', 'console-iso'];
const ID_FIELDS = ['correlationId', 'request_id', 'requestId', 'traceId', 'x_request_id', 'meta.correlationId', 'context.requestId'];
const GROUPS = ['manager', 'agent-1', 'agent-2', 'agent-3', 'agent-4', 'worker', 'monitor'];
const LOGGER_NAME = { 'pino': 'pino', 'pino-cause': 'pino/errWithCause', 'winston-meta': 'winston/error-meta', 'winston-spread': 'winston/error-spread', 'bunyan': 'bunyan', 'console-ts': 'console/ts', 'console-iso': 'console/@timestamp' };

function shuffle(rng, a) { const b = [...a]; for (let i = b.length - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); [b[i], b[j]] = [b[j], b[i]]; } return b; }
const pickOne = (rng, a) => a[Math.floor(rng() * a.length)];
// fixed; chosen so that seeds 1 and 2 give the manager, the workers, the
// monitor and the ghost agent loggers of different families
const SALT = 20;

// Every seed uses each of the 7 logger shapes once and each of the 7 id
// spellings once; meta.correlationId (winston meta nesting) goes to a winston process.
function assign(seed, salt = SALT) {
  const rng = mulberry32(seed * 7919 + salt);
  const loggers = shuffle(rng, LOGGERS);
  const shape = {};
  GROUPS.forEach((g, i) => { shape[g] = { logger: loggers[i] }; });
  const win = GROUPS.filter((g) => shape[g].logger.startsWith('winston'));
  const metaG = pickOne(rng, win);
  shape[metaG].idField = 'meta.correlationId';
  const rest = shuffle(rng, ID_FIELDS.filter((f) => f !== 'meta.correlationId'));
  GROUPS.filter((g) => g !== metaG).forEach((g, i) => { shape[g].idField = rest[i]; });
  const a123 = ['agent-1', 'agent-2', 'agent-3'];
  const ghost = pickOne(rng, a123);
  const relays = shuffle(rng, a123).slice(0, 2);
  const relay = {};
  relay[relays[0]] = pickOne(rng, ['data', 'chunk']); // at least one relays raw 'data' chunks
  relay[relays[1]] = pickOne(rng, ['line', 'data', 'chunk'].filter((f) => f !== relay[relays[0]]));
  const others = shuffle(rng, a123.filter((a) => a !== ghost));
  const toolClient = {};
  for (const a of ['agent-1', 'agent-2', 'agent-3', 'agent-4']) toolClient[a] = pickOne(rng, ['fetch', 'http']);
  return { rng, shape, ghost, relay, stop1: pickOne(rng, [others[0], 'agent-4']), stop2: others[1], toolClient };
}

// ---- what each workflow name does (apps/shapes-agent.js) -----------------
const W = (stepMs = 300) => ['--step-ms', String(stepMs)];
const PLANS = {
  // healthy
  'summarize-pr': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, persist: true },
  'triage-issue': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, persist: true },
  'update-changelog': { spawn: { args: W() }, persist: true },
  'review-diff': { model: { model: 'small', timeoutMs: 10000 }, tool: { mode: 'ok' }, spawn: { args: W() } },
  'label-issues': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W(200) }, persist: true },
  'bump-deps': { tool: { mode: 'ok' }, spawn: { args: [...W(), '--legacy-buffer'] }, persist: true }, // DEP0005 warning on stderr
  'draft-reply': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() } },
  'summarize-thread': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, persist: true },
  'draft-design-doc': { model: { model: 'large', timeoutMs: 8000 }, spawn: { args: W() }, persist: true }, // slow model, within its timeout
  'settle-invoice': { ledger: { holdMs: 300 }, spawn: { args: W() }, persist: true },
  'settle-refund': { ledger: { holdMs: 300 }, spawn: { args: W() }, persist: true },
  'format': { spawn: { cmd: './tools/fmt.sh', args: ['--check'], workspace: true }, persist: true },
  'daily-digest': { report: { queries: 1 }, spawn: { args: W() } },
  'audit-lint-rules': { spawn: { args: [...W(), '--dump-kb', '40'] } }, // one 40 KiB line (16 KiB pieces in docker/CRI)
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
  'sync-mirror': { tool: { mode: 'ok' }, spawn: { args: W() }, persist: true }, // manager's legacy client: no X-Request-ID
  'publish-release-notes': { model: { model: 'small', timeoutMs: 10000 }, spawn: { args: W() }, progressKey: 'reqId' }, // progress id under another key
  'index-repository': { spawn: { args: ['--step-ms', '150'] } }, // killed with kill -9 by the harness
  'build-embedding-cache': { spawn: { nodeArgs: ['--max-old-space-size=16'], args: ['--alloc'] } }, // V8 heap OOM
};
const LEGACY_CLIENT = ['sync-mirror'];
const TEXTS = {
  'summarize-pr': 'Summarize PR #231', 'triage-issue': 'Triage issue #87: scheduler deadlock report turned out to be a docs typo',
  'update-changelog': 'Update CHANGELOG for 2.4.0', 'review-diff': 'Review the staged diff', 'label-issues': 'Label new issues',
  'bump-deps': 'Bump pino to the latest minor', 'draft-reply': 'Draft a reply about request timeout defaults (requestTimeoutMs)',
  'summarize-thread': 'Summarize last quarter\'s OOMKilled postmortem for the newsletter', 'draft-design-doc': 'Draft the design doc for the retry queue',
  'settle-invoice': 'Settle usage invoice', 'settle-refund': 'Settle refund', 'format': 'Format sources', 'daily-digest': 'Daily digest of merged PRs',
  'watch-ci-pipeline': 'Watch the CI pipeline of main', 'sandboxed-shell': 'Run the repro script in the sandbox', 'code-review': 'Ask claude to review the diff',
  'lint': 'Lint and fix sources', 'run-integration-tests': 'Run the integration tests', 'diff-summary': 'Summarize the diff with the git tool',
  'plan-migration': 'Plan the schema migration', 'weekly-report': 'Weekly usage report', 'export-legacy': 'Export issues with the legacy exporter',
  'sync-mirror': 'Sync the mirror repository', 'publish-release-notes': 'Publish the release notes (heap usage section included)',
  'index-repository': 'Index the monorepo for search', 'audit-lint-rules': 'Audit the lint rule set', 'build-embedding-cache': 'Build the embedding cache for the docs',
};
const HEALTHY = ['summarize-pr', 'triage-issue', 'update-changelog', 'review-diff', 'label-issues', 'bump-deps', 'draft-reply',
  'summarize-thread', 'settle-invoice', 'format', 'draft-design-doc', 'settle-refund', 'daily-digest'];
// [workflow, count, symptom]
const FAULTS = [
  ['sandboxed-shell', 4, 'spawn-einval'], ['code-review', 4, 'spawn-enoent'], ['lint', 4, 'spawn-eacces'],
  ['run-integration-tests', 2, 'econnreset'], ['diff-summary', 2, 'econnreset'], ['plan-migration', 4, 'request-timeout'],
  ['weekly-report', 4, 'pg-too-many-connections'], ['export-legacy', 4, 'correlation-lost'], ['sync-mirror', 4, 'correlation-lost'],
  ['publish-release-notes', 4, 'correlation-lost'], ['index-repository', 4, 'oom-killed'], ['build-embedding-cache', 4, 'heap-oom'],
  ['audit-lint-rules', 3, null], // healthy, placed like the faults
];
const SYMPTOM = Object.fromEntries(FAULTS.filter(([, , s]) => s).map(([w, , s]) => [w, s]));

function workflows(cfg) {
  const { rng } = cfg;
  const agent = (i) => `agent-${i + 1}`;
  const all4 = [0, 1, 2, 3].map(agent);
  const slots = Array.from({ length: N_BATCHES }, () => []);
  for (let i = 0; i < 4; i++) slots[0].push({ workflow: 'watch-ci-pipeline', agent: agent(i), steps: 1 });
  const dl = [5 + Math.floor(rng() * 8), 18 + Math.floor(rng() * 8), 36 + Math.floor(rng() * 8), 48 + Math.floor(rng() * 8)];
  for (const b of dl) {
    const pool = b > LAST_A4_BATCH ? all4.slice(0, 3) : all4;
    const [x, y] = shuffle(rng, pool);
    slots[b].push({ workflow: 'settle-invoice', agent: x, steps: 3, params: { from: 1, to: 2, amount: 25, holdMs: 3000 }, pair: b });
    slots[b].push({ workflow: 'settle-refund', agent: y, steps: 3, params: { from: 2, to: 1, amount: 25, holdMs: 3000 }, pair: b });
  }
  const relayAgents = Object.keys(cfg.relay);
  FAULTS.forEach(([name, count], j) => {
    const off = rng();
    for (let k = 0; k < count; k++) {
      let b = 2 + Math.floor(((k + (j + off) / FAULTS.length) * (N_BATCHES - 4)) / count);
      while (slots[b].length >= 3) b = (b + 1) % N_BATCHES || 1;
      let pool = b > LAST_A4_BATCH ? all4.slice(0, 3) : all4;
      if (name === 'export-legacy') pool = pool.filter((a) => !relayAgents.includes(a)); // its child gets its own file
      if (name === 'publish-release-notes') pool = pool.filter((a) => a !== cfg.ghost); // its message must reach the monitor
      if (name === 'build-embedding-cache') { // half relayed in a field, half in the child's own file
        const want = k % 2 === 0;
        pool = pool.filter((a) => relayAgents.includes(a) === want);
      }
      slots[b].push({ workflow: name, agent: pickOne(rng, pool), steps: name === 'index-repository' ? 60 : 4 });
    }
  });
  let h = Math.floor(rng() * HEALTHY.length);
  let acct = 10;
  const out = [];
  for (let b = 0; b < N_BATCHES; b++) {
    while (slots[b].length < BATCH) {
      if (HEALTHY[h % HEALTHY.length] === 'daily-digest' && slots[b].some((w) => w.workflow === 'weekly-report')) h++;
      const name = HEALTHY[h % HEALTHY.length];
      const wf = { workflow: name, agent: agent((b * BATCH + slots[b].length) % 4), steps: 2 + (h % 4) };
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

async function pause(p, ms) {
  process.kill(p.pid, 'SIGSTOP');
  await sleep(ms);
  process.kill(p.pid, 'SIGCONT');
}

function countIn(file, needle) { try { return fs.readFileSync(file, 'utf8').split(needle).length - 1; } catch (_) { return 0; } }
async function waitForCount(file, needle, n, timeoutMs = 15000) {
  const t0 = Date.now();
  while (countIn(file, needle) < n) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting for ${needle} x${n}`);
    await sleep(50);
  }
}
const parse = (s) => { try { return JSON.parse(s); } catch (_) { return null; } };
const msgOf = (o) => (o && (o.msg !== undefined ? o.msg : o.message));

async function run(out, seed) {
  const cfg = assign(seed);
  const WORKFLOWS = workflows(cfg);
  const corpus = new Corpus(out, { namespace: 'fleet', rng: mulberry32(seed * 104729 + 3) });
  const side = fs.mkdtempSync(path.join(os.tmpdir(), 'shapes-side-'));
  const spool = path.join(side, 'spool');
  const truthFile = path.join(side, 'truth.jsonl');
  const c = cluster.start(55432, { maxConnections: 40 });
  await setupDb(c);
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-ws-'));
  fs.mkdirSync(path.join(ws, 'tools'));
  fs.writeFileSync(path.join(ws, 'tools', 'lint.sh'), '#!/bin/sh\necho lint ok\n', { mode: 0o644 });
  fs.writeFileSync(path.join(ws, 'tools', 'fmt.sh'), '#!/bin/sh\necho fmt ok\n', { mode: 0o755 });

  const sh = (g) => ({ LOG_SHAPE: cfg.shape[g].logger, LOG_ID_FIELD: cfg.shape[g].idField });
  const cap = (app, container) => ({ corpus, app, container: container || app });
  const model = launch('apps/model-stub.js', { out, log: 'model-api.log', host: 'model-api', capture: cap('model-api'), env: { PORT: String(PORTS.model), SLOW_MS: '3500' } });
  const tool = launch('apps/flaky-upstream.js', { out, log: 'tool-api.log', host: 'tool-api', capture: cap('tool-api'), env: { PORT: String(PORTS.tool) } });
  const monEnv = { ...sh('monitor'), PORT: String(PORTS.monitor), EXPECTED_AGENTS: JSON.stringify(['agent-1', 'agent-2', 'agent-3', 'agent-4']) };
  let mon = launch('apps/shapes-monitor.js', { out, log: 'monitor.log', host: 'monitor', capture: cap('monitor'), env: monEnv });
  await waitForLine(model.logFile, 'model api listening');
  await waitForLine(tool.logFile, 'tool api listening');
  await waitForLine(mon.logFile, 'monitor listening');

  // children with their own file: container worker-<pid> in their agent's pod
  const tail = tailSpool(spool, (agent, pid) => corpus.sink(`child-${pid}.log`, agent, `worker-${pid}`));
  const common = {
    PLANS: JSON.stringify(PLANS), PGPORT: String(c.port), MODEL_URL: `http://127.0.0.1:${PORTS.model}`, TOOL_API: `http://127.0.0.1:${PORTS.tool}`,
    WORKSPACE: ws, MONITOR_WS: `ws://127.0.0.1:${PORTS.monitor}/agents`, MAX_CONCURRENT: '3', HEARTBEAT_MS: '2000',
    WORKER_LOG_SHAPE: cfg.shape.worker.logger, WORKER_ID_FIELD: cfg.shape.worker.idField, SPOOL_DIR: spool, GEN_TRUTH_FILE: truthFile,
  };
  const agents = [1, 2, 3, 4].map((i) => {
    const name = `agent-${i}`;
    const e = { ...common, ...sh(name), AGENT_NAME: name, PORT: String(PORTS.agents[i - 1]), TOOL_CLIENT: cfg.toolClient[name],
      RECONNECT: name === cfg.ghost ? '0' : '1', RELAY_FIELD: cfg.relay[name] || '', ON_SIGTERM: i === 4 ? 'leave-children' : 'kill-children' };
    return launch('apps/shapes-agent.js', { out, log: `${name}.log`, host: name, capture: cap(name), env: e });
  });
  for (const a of agents) { await waitForLine(a.logFile, 'agent listening'); await waitForLine(a.logFile, 'connected to monitor'); }

  // The "OOM killer": kill -9 every index-repository child 1.5 s after it started.
  const killed = [];
  for (const a of agents) {
    a.sink.onLine((s) => {
      if (!s.includes('child spawned') || !s.includes('index-repository')) return;
      const o = parse(s);
      if (!o || msgOf(o) !== 'child spawned' || o.workflow !== 'index-repository') return;
      killed.push(o.childPid);
      setTimeout(() => { try { execFileSync('kill', ['-9', String(o.childPid)]); } catch (_) { /* already gone */ } }, 1500);
    });
  }

  const mgr = launch('apps/shapes-manager.js', { out, log: 'manager.log', host: 'manager', capture: cap('manager'), env: {
    ...sh('manager'), GEN_TRUTH_FILE: truthFile,
    AGENTS: JSON.stringify(agents.map((a, i) => ({ name: `agent-${i + 1}`, url: `http://127.0.0.1:${PORTS.agents[i]}` }))),
    WORKFLOWS: JSON.stringify(WORKFLOWS), BATCH: String(BATCH), BATCH_EVERY_MS: String(BATCH_EVERY_MS), PGPORT: String(c.port),
    LEGACY_CLIENT: JSON.stringify(LEGACY_CLIENT), BREAKER_THRESHOLD: '5',
  } });
  await waitForLine(mgr.logFile, 'manager started');
  const t0 = Date.now();
  const at = (s) => sleep(Math.max(0, t0 + s * 1000 - Date.now()));
  const byName = (n) => agents[Number(n.slice(6)) - 1];
  const events = [];

  await at(T.stop1); events.push({ t: T.stop1, what: 'SIGSTOP 3 s', agent: cfg.stop1 }); await pause(byName(cfg.stop1), 3000);
  await at(T.agent4Term); events.push({ t: T.agent4Term, what: 'SIGTERM agent-4 (leaves its children)' });
  agents[3].kill('SIGTERM');
  const a4done = agents[3].done;
  await at(T.monitorRestart);
  events.push({ t: T.monitorRestart, what: 'monitor restart' });
  mon.kill('SIGTERM'); await mon.done;
  await sleep(T.monitorDownMs);
  mon = launch('apps/shapes-monitor.js', { out, log: 'monitor.log', host: 'monitor', capture: cap('monitor'), env: monEnv });
  await waitForCount(mon.logFile, 'monitor listening', 2);
  await at(T.stop2); events.push({ t: T.stop2, what: 'SIGSTOP 3 s', agent: cfg.stop2 }); await pause(byName(cfg.stop2), 3000);
  await waitForLine(mgr.logFile, 'all workflows finished', 120000);
  await a4done;
  await sleep(2000);
  for (const a of agents.slice(0, 3)) { a.kill('SIGTERM'); await a.done; }
  await sleep(500);
  mgr.kill('SIGTERM'); await mgr.done;
  await sleep(1500);
  for (const p of [mon, model, tool]) { p.kill('SIGTERM'); await p.done; }
  const zombies = [];
  for (const l of fs.readFileSync(agents[3].logFile, 'utf8').split('\n')) {
    const o = parse(l);
    if (o && msgOf(o) === 'child spawned' && o.background) zombies.push(o.childPid);
  }
  for (const pid of zombies) { try { process.kill(pid, 'SIGKILL'); } catch (_) { /* gone */ } }
  await sleep(300);
  tail.stop();
  corpus.closeAll();
  cluster.stop();
  const side1 = fs.readFileSync(truthFile, 'utf8');
  fs.rmSync(ws, { recursive: true, force: true });
  fs.rmSync(side, { recursive: true, force: true });
  const truth = require('../lib/shapes-truth').build({ out, seed, cfg, WORKFLOWS, side: side1, killed, zombies, events, SYMPTOM, LOGGER_NAME, sinks: [...corpus.sinks] });
  fs.writeFileSync(path.join(out, 'TRUTH.json'), JSON.stringify(truth, null, 1) + '\n');
}

const EXPECT = ['correlation-lost', 'econnrefused', 'econnreset', 'heap-oom', 'oom-killed', 'pg-deadlock', 'pg-too-many-connections',
  'request-timeout', 'spawn-eacces', 'spawn-einval', 'spawn-enoent', 'ws-ghost-agent', 'zombie-child'];
function note(seed) {
  const cfg = assign(seed);
  const s = (g) => `${g} ${LOGGER_NAME[cfg.shape[g].logger]} (${cfg.shape[g].idField})`;
  const relay = Object.entries(cfg.relay).map(([a, f]) => `${a} in "${f}"`).join(', ');
  return `The fleet of "fleet" (manager, agent-1..4, workers, monitor, PostgreSQL 15, model and tool stubs; apps/shapes-*.js), ~300 workflows in ~2.5 minutes, with logger shapes and id spellings picked by seed ${seed}: ${GROUPS.map(s).join('; ')}. ` +
    `Three forms of the same lines: raw/ (one file per process, child-<pid>.log for workers with their own file), docker/containers/ (json-file) and cri/pods/ (CRI), written by the harness as the lines arrived through pipes. ` +
    `Workers' stderr relayed as log lines by ${relay} (their stdout goes to the agent's stdout). ` +
    'Planted, 4 times each unless said: spawn EINVAL/ENOENT/EACCES, ECONNRESET (2 resets, 2 closes), request timeout, pg 40P01 (4 pairs, retried), 53300, heap OOM (half relayed in a field), kill -9 of index-repository children, correlation-lost three ways (export-legacy child without the id; sync-mirror dispatched without X-Request-ID so the agent mints a new id; publish-release-notes progress messages with the id under "reqId", logged by the monitor without an id). ' +
    `Incidents: ${cfg.stop1} and later ${cfg.stop2} SIGSTOPped 3 s (reconnect: benign); the monitor restarted once at ~100 s (sockets closed 1001 "server shutdown", down ~4 s): reconnecting agents log "connect ECONNREFUSED" then "connected to monitor" (a recovered blip), ${cfg.ghost} has no reconnect logic and its later workflows log "WebSocket is not open: readyState 3 (CLOSED)" (ws-ghost-agent); at ~78 s agent-4 gets SIGTERM and leaves its background watcher running (zombie-child), then the manager's dispatches to it are refused (econnrefused, until the breaker opens after 5 consecutive failures). TRUTH.json lists every workflow's ids, shapes, expected symptoms and line count.`;
}

module.exports = [1, 2].map((seed) => ({
  dir: `shapes-${seed}`,
  expect: EXPECT,
  note: note(seed),
  run: (out) => run(out, seed),
}));
module.exports.assign = assign;
module.exports.workflows = workflows;
